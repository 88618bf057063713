"""The real state machine (synthesized by the CDK app) in moto's Step Functions interpreter, its Lambda
tasks running the real handlers in-process, against the GMI simulator; driven from an S3 upload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v_events.v1 import DetailType
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import FunctionSpec, Invocation, LocalStack
from i2v_local.stack.driver import PipelineDriver
from support.poll_looks import record_looks
from support.watch_queue import refuse_watch_messages, submit_pump

pytestmark = pytest.mark.xdist_group(__name__)

SUCCEEDED = DetailType.SUCCEEDED
FAILED = DetailType.FAILED


def test_upload_becomes_a_video_a_succeeded_record_and_an_event(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/holiday/beach day.png")

    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert {"received", "submitting", "submitted", "succeeded"} <= set(job.timestamps)
    assert job.output is not None
    assert job.output.bucket == pipeline.output_bucket
    video = pipeline.s3.get_object(Bucket=job.output.bucket, Key=job.output.key)
    body = video["Body"].read()
    assert len(body) == job.output.size > 0
    assert body[4:8] == b"ftyp"
    assert local_gmi.post_count == 1
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    assert execution["name"] == f"{job_id}-1"
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert event["detail"]["status"] == "succeeded"
    assert event["source"] == "i2v.pipeline"


def test_gmi_failure_is_recorded_and_announced(pipeline: PipelineDriver, local_stack: LocalStack) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/broken.png", prompt="a cat [sim:fail message=render-exploded]")

    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "gmi_failed"
    assert "render-exploded" in job.failure.message
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"  # the workflow did its job: JobFailed is a Succeed state
    (event,) = tap.wait_for(FAILED)
    assert event["detail"]["job_id"] == job_id
    assert event["detail"]["status"] == "failed"


def test_stuck_job_times_out(local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator) -> None:
    stack = local_stack_factory(job_deadline_seconds=3)  # the config takes any deadline from 1 s up
    pipeline = PipelineDriver(stack)
    tap = stack.tap_events()
    job_id = pipeline.upload("incoming/slow.png", prompt="waits forever [sim:stuck]")

    stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "timed_out"
    assert job.failure is not None
    assert job.failure.category == "timed_out"
    assert [e["detail"]["status"] for e in tap.wait_for(FAILED)] == ["timed_out"]
    assert local_gmi.post_count == 1


def _first_call_of(logical: str, before: Any = None, after: Any = None) -> tuple[Any, Any]:
    """Hooks for the router that act on the first invocation of one function only."""
    seen: list[int] = []

    def before_hook(spec: FunctionSpec, event: Any) -> None:
        if logical in spec.logical_id and not seen and before:
            before(event)

    def after_hook(spec: FunctionSpec, event: Any, result: Invocation) -> None:
        if logical in spec.logical_id and not seen:
            seen.append(1)
            if after:
                after(event, result)

    return before_hook, after_hook


def test_truncated_download_is_retried_by_the_state_machine(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    sim = local_gmi
    before, after = _first_call_of(
        "Complete",
        before=lambda event: sim.set_job_faults(event["request_id"], "video_truncated"),
        after=lambda event, result: sim.job(event["request_id"]).faults.pop("video_truncated"),
    )
    local_stack.router.before_invoke.append(before)
    local_stack.router.after_invoke.append(after)
    job_id = pipeline.upload("incoming/flaky-download.png")

    local_stack.run_until_idle(timeout=30)

    first, second = (result for _, result in local_stack.router.calls("Complete"))
    assert first.error
    assert first.payload["errorType"] == "VideoNotStoredError"  # a TransientError the store loop catches
    assert "download_failed" in first.payload["errorMessage"]
    assert not second.error
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    assert pipeline.s3.head_object(Bucket=job.output.bucket, Key=job.output.key)["ContentLength"] == job.output.size
    (execution,) = pipeline.executions()
    history = pipeline.history(execution["executionArn"])
    failures = [e for e in history if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert len(failures) == 1
    assert execution["status"] == "SUCCEEDED"
    assert sim.post_count == 1


def test_status_check_error_is_retried_by_the_poll_loop(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = record_looks(monkeypatch)
    # The first look (the watch function's, woken by the Watch state's message) finds GMI answering 503 once.
    before, after = _first_call_of("Watcher", before=lambda event: local_gmi.inject("get_503", count=1))
    local_stack.router.before_invoke.append(before)
    local_stack.router.after_invoke.append(after)
    job_id = pipeline.upload("incoming/flaky-status.png")

    local_stack.run_until_idle(timeout=30)

    verdicts = looks.verdicts(job_id)
    gets = [entry.status for entry in local_gmi.requests_log if entry.method == "GET" and "/requests/" in entry.path]
    assert gets[0] == 503  # the first status check failed...
    assert 200 in gets[1:]  # ...and was retried by a later look
    assert (verdicts[0]["outcome"], verdicts[0]["consecutive_errors"]) == ("waiting", 1)  # not a failure
    assert verdicts[-1]["outcome"] == "succeeded"
    assert pipeline.job(job_id).status == "succeeded"
    assert local_gmi.post_count == 1


def _submit_queue(stack: LocalStack) -> str:
    return stack.outputs["SubmitQueueUrl"]


def test_duplicate_s3_event_posts_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    job_id = pipeline.upload("incoming/twice.png")
    local_stack.run_until_idle(timeout=30)
    (first_event, _), *_ = local_stack.router.calls("Submit")
    body = next(r["body"] for r in first_event["Records"] if "twice.png" in r["body"])

    # S3 delivers at least once: the same notification arrives again after the job is done.
    local_stack.client("sqs").send_message(QueueUrl=_submit_queue(local_stack), MessageBody=body)
    local_stack.run_until_idle(timeout=30)

    assert len(local_stack.router.calls("Submit")) == 2
    assert local_gmi.post_count == 1
    assert len(pipeline.executions()) == 1
    assert pipeline.job(job_id).status == "succeeded"


def test_redelivered_sqs_message_posts_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    job_id = pipeline.upload("incoming/redelivered.png")
    sqs = local_stack.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=_submit_queue(local_stack), MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    # A submit invocation whose batch was processed but never deleted (e.g. the function timed out
    # after its work): SQS hands the same message out again.
    pump = submit_pump(local_stack)
    assert local_stack.router.invoke(pump.source.function_name, pump.event_for(messages)).payload == {
        "batchItemFailures": []
    }
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=_submit_queue(local_stack), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

    local_stack.run_until_idle(timeout=30)

    redelivered, _ = local_stack.router.calls("Submit")[1]
    assert any(r["attributes"]["ApproximateReceiveCount"] == "2" for r in redelivered["Records"])
    assert local_gmi.post_count == 1
    assert len(pipeline.executions()) == 1
    assert pipeline.job(job_id).status == "succeeded"


def test_start_execution_retried_after_a_lost_response_posts_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    lost: list[str] = []

    def lose_first_response(**kwargs: Any) -> None:
        if not lost:
            lost.append("x")
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "response lost"}}, "StartExecution")

    # The handlers' own cached client: the execution starts, then the caller sees an error.
    client("stepfunctions").meta.events.register("after-call.sfn.StartExecution", lose_first_response)
    job_id = pipeline.upload("incoming/lost-response.png")

    local_stack.run_until_idle(timeout=30)

    assert lost, "the hook did not fire"
    submits = [result.payload for _, result in local_stack.router.calls("Submit")]
    assert submits[0]["batchItemFailures"]  # the first attempt failed its record; SQS redelivered it
    assert local_gmi.post_count == 1
    (execution,) = pipeline.executions()
    assert execution["name"] == f"{job_id}-1"
    assert execution["status"] == "SUCCEEDED"
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.execution_name == f"{job_id}-1"


def test_aborted_execution_is_recorded_by_the_status_change_rule(
    pipeline: PipelineDriver, local_stack: LocalStack
) -> None:
    """An execution stopped from outside never reaches RecordFailure: the status change rule records the job.

    It is stopped while a Poll task runs. A stuck job waits in the Watch state, but moto's interpreter turns a
    stop during a task-token wait into a failure (States.Timeout; AWS says ABORTED), so here SQS refuses the
    Watch state's messages and the execution is stopped in the fallback loop (Wait -> Poll)."""
    tap = local_stack.tap_events()
    states = local_stack.tap_events({"source": ["aws.states"]}, bus="default")
    stopped: list[str] = []

    def stop_in_the_first_poll(spec: FunctionSpec, event: Any) -> None:
        if "Poll" in spec.logical_id and not stopped:
            (running,) = pipeline.executions()
            stopped.append(running["executionArn"])
            local_stack.client("stepfunctions").stop_execution(executionArn=running["executionArn"], cause="operator")

    local_stack.router.before_invoke.append(stop_in_the_first_poll)
    with refuse_watch_messages():
        job_id = pipeline.upload("incoming/aborted.png", prompt="never ends [sim:stuck]")
        local_stack.run_until_idle(timeout=30)

    assert stopped, "no Poll task ran"
    (execution,) = pipeline.executions()
    assert execution["status"] == "ABORTED"

    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "workflow_error"
    assert "aborted" in job.failure.message
    (event,) = tap.wait_for(FAILED)
    assert event["detail"]["job_id"] == job_id
    changes = states.wait_for("Step Functions Execution Status Change", count=2)
    assert [e["detail"]["status"] for e in changes] == ["RUNNING", "ABORTED"]
