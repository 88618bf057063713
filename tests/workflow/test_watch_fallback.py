"""The Watch state's fallback, in the real synthesized state machine (moto's interpreter, the real handlers
in-process, the GMI simulator): when the watch queue refuses the job, or the watch function cannot answer the
task token, the execution still ends the job through Wait -> Poll -> Route (docs/architecture.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.leak_guard import CapturingLeakGuard
from i2v.adapters.aws import client
from i2v_events.v1 import DetailType
from i2v_infra.config import PipelineConfig
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalSettings, LocalStack
from i2v_local.stack.driver import PipelineDriver
from support.poll_looks import record_looks
from support.watch_queue import refuse_watch_messages, watch_queue_url, with_watch_heartbeat

pytestmark = pytest.mark.xdist_group(__name__)

SUCCEEDED = DetailType.SUCCEEDED
FALLBACK = ["AlreadyDone?", "Watch", "Wait", "Poll", "Route", "Complete", "Done"]
# A failing look's receives before its message goes to the watch DLQ (the template's redrive).
WATCH_MAX_RECEIVE_COUNT = PipelineConfig().max_receive_count
# Long enough for the pump's five deliveries of a failing look (1 s visibility timeout locally) to heartbeat
# the task before it gives up; the synthesized one is ~22 minutes.
HEARTBEAT_SECONDS = 4


def _states_entered(history: list[dict[str, Any]]) -> list[str]:
    return [event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event]


def _final_state(stack: LocalStack, execution_arn: str) -> dict[str, Any]:
    output = stack.client("stepfunctions").describe_execution(executionArn=execution_arn)["output"]
    return dict(json.loads(output))


def _stored(pipeline: PipelineDriver, job_id: str) -> None:
    job = pipeline.job(job_id)
    assert job.status == "succeeded", job.failure
    assert job.output is not None
    head = pipeline.s3.head_object(Bucket=job.output.bucket, Key=job.output.key)
    assert head["ContentLength"] == job.output.size > 0


def test_watch_queue_refusing_the_job_hands_it_to_wait_and_poll(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQS refuses the Watch state's message (say the queue's key is disabled): the task fails at once, its Catch
    waits the verdict's wait and the Poll task looks instead; its verdict is routed as the watch's would be."""
    looks = record_looks(monkeypatch)
    tap = local_stack.tap_events()
    with refuse_watch_messages() as refused:
        job_id = pipeline.upload("incoming/fallback/refused.png")
        local_stack.run_until_idle(timeout=30)

    assert refused.count == 1
    _stored(pipeline, job_id)
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    history = pipeline.history(execution["executionArn"])
    assert _states_entered(history) == FALLBACK
    (failed,) = [event for event in history if event["type"] == "TaskFailed"]
    assert failed["taskFailedEventDetails"]["resource"] == "sendMessage.waitForTaskToken"
    # Why the fallback took over stays in the execution state (`$.watch_error`), for whoever reads the history.
    assert _final_state(local_stack, execution["executionArn"])["watch_error"]["Error"] == "SQS.SdkClientException"
    assert [(look.by, look.verdict and look.verdict["outcome"]) for look in looks.of(job_id)] == [("Poll", "succeeded")]
    assert local_stack.router.calls("Watcher") == []  # nothing reached the watch function
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert local_gmi.post_count == 1


def test_watch_function_that_cannot_answer_leaves_the_job_to_the_fallback_when_the_heartbeat_runs_out(
    cdk_template: dict[str, Any],
    local_gmi: GmiSimulator,
    leak_guard: CapturingLeakGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watch function looks, but Step Functions throttles its SendTaskSuccess every time: the look fails, SQS
    delivers the message again (each delivery heartbeats the task) until it goes to the watch queue's DLQ after
    WATCH_MAX_RECEIVE_COUNT receives; the Watch state then hears nothing for HeartbeatSeconds, gives up, and
    Wait -> Poll ends the job."""
    local_gmi.reset()
    template = with_watch_heartbeat(cdk_template, HEARTBEAT_SECONDS)
    with LocalStack(template, LocalSettings.for_simulator(local_gmi)) as stack, leak_guard.watching(stack):
        looks = record_looks(monkeypatch)
        throttled = _throttle(client("stepfunctions"), "SendTaskSuccess")  # the handlers' own client
        pipeline = PipelineDriver(stack)
        tap = stack.tap_events()
        job_id = pipeline.upload("incoming/fallback/unanswered.png")

        stack.run_until_idle(timeout=60)

        _stored(pipeline, job_id)
        by_watch = looks.verdicts(job_id, by="Watch")
        assert [v["outcome"] for v in by_watch] == ["succeeded"] * WATCH_MAX_RECEIVE_COUNT  # each answer refused
        assert len(throttled) == WATCH_MAX_RECEIVE_COUNT
        assert [v["outcome"] for v in looks.verdicts(job_id, by="Poll")] == ["succeeded"]
        (dead,) = _messages(stack, stack.physical_id("WatcherDeadLetterQueue", "AWS::SQS::Queue"))
        assert json.loads(dead)["state"]["job_id"] == job_id
        assert _messages(stack, watch_queue_url(stack)) == []
        (execution,) = pipeline.executions()
        assert execution["status"] == "SUCCEEDED"
        history = pipeline.history(execution["executionArn"])
        assert _states_entered(history) == FALLBACK
        # The heartbeat ran out (AWS names it States.HeartbeatTimeout; moto's interpreter States.Timeout).
        (timed_out,) = [event for event in history if event["type"] == "TaskTimedOut"]
        assert timed_out["taskTimedOutEventDetails"]["resource"] == "sendMessage.waitForTaskToken"
        error = _final_state(stack, execution["executionArn"])["watch_error"]["Error"]
        assert error in ("States.HeartbeatTimeout", "States.Timeout")
        (event,) = tap.wait_for(SUCCEEDED)
        assert event["detail"]["job_id"] == job_id
        assert local_gmi.post_count == 1


def _throttle(sfn: Any, operation: str) -> list[dict[str, Any]]:
    """Every call of `operation` on this client fails with ThrottlingException; returns the calls' parameters."""
    calls: list[dict[str, Any]] = []

    def refuse(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)

    sfn.meta.events.register(f"before-call.sfn.{operation}", refuse)
    return calls


def _messages(stack: LocalStack, queue_url: str) -> list[str]:
    """The bodies of the messages on a queue (left visible)."""
    answer = stack.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [str(message["Body"]) for message in answer.get("Messages", [])]


def test_once_the_watch_failed_the_fallback_keeps_looking_without_going_back_to_watch(
    pipeline: PipelineDriver, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 24, defect 3: after the Watch state's Catch, a job GMI has not finished used to go back to Watch from
    Route, and in AWS wait out another heartbeat (~22 minutes) for a chain that may be dead. Now Route sends a job
    whose `$.watch_error` is set to Wait -> Poll, on the poll policy's schedule, until it ends."""
    looks = record_looks(monkeypatch)
    with refuse_watch_messages() as refused:
        job_id = pipeline.upload(
            "incoming/fallback/keeps-looking.png", prompt="a kite [sim:unknown_status gets=6 status=dispatched]"
        )
        local_stack.run_until_idle(timeout=60)

    _stored(pipeline, job_id)
    (execution,) = pipeline.executions()
    entered = _states_entered(pipeline.history(execution["executionArn"]))
    assert refused.count == 1
    assert entered.count("Watch") == 1
    assert entered.count("Poll") >= 2  # the fallback went round (a Poll sleeps inline for 2 s at most locally)
    assert entered[-2:] == ["Complete", "Done"]
    assert {look.by for look in looks.of(job_id)} == {"Poll"}
