"""Upgrades (issue 24, defect 7): CloudFormation updates the state machine before the functions, so for a while
the previous release's submit code starts executions on the new definition. Their input is the previous release's
(tests/fixtures/workflow/execution_input_before_ddbe364.json: no `poll.queue_delay_seconds`, which the Watch
state reads). With AWS's error rule applied by the local stack (States.ALL does not catch States.Runtime), such
an execution failed and the fail function recorded a job GMI was making; now it polls once through the fallback
loop, whose result has the field, and goes on to Watch (docs/architecture.md, "Changing the contract")."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from i2v.adapters.aws import client
from i2v_events.v1 import DetailType
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver

pytestmark = pytest.mark.xdist_group(__name__)

PREVIOUS_INPUT = Path(__file__).resolve().parents[1] / "fixtures" / "workflow" / "execution_input_before_ddbe364.json"
# What submit writes about this job (ids, times, what GMI answered); the rest is the previous release's shape.
THIS_JOB = ("job_id", "attempt", "request_id", "model", "time_class", "submitted_at", "deadline_at", "gmi_status")


def started_by_the_previous_release() -> list[dict[str, Any]]:
    """Every execution submit starts gets the previous release's input for its job (registered on the handlers'
    own client; the stack forgets it when it stops). Returns the inputs sent."""
    previous = json.loads(PREVIOUS_INPUT.read_text())
    sent: list[dict[str, Any]] = []

    def rewrite(params: dict[str, Any], **_: Any) -> None:
        current = json.loads(params["input"])
        old = {**previous, **{name: current[name] for name in THIS_JOB}}
        old["poll"] = {**previous["poll"], "next_wait_seconds": current["poll"]["next_wait_seconds"]}
        sent.append(old)
        params["input"] = json.dumps(old)

    client("stepfunctions").meta.events.register("before-parameter-build.sfn.StartExecution", rewrite)
    return sent


def _states_entered(history: list[dict[str, Any]]) -> list[str]:
    return [event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event]


def test_an_execution_started_by_the_previous_release_completes_on_the_new_definition(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    sent = started_by_the_previous_release()
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/upgrade/previous-release.png")

    local_stack.run_until_idle(timeout=60)

    (old_input,) = sent
    assert "queue_delay_seconds" not in old_input["poll"]
    job = pipeline.job(job_id)
    assert job.status == "succeeded", job.failure
    assert job.output is not None
    head = pipeline.s3.head_object(Bucket=job.output.bucket, Key=job.output.key)
    assert head["ContentLength"] == job.output.size > 0
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    entered = _states_entered(pipeline.history(execution["executionArn"]))
    # One Poll through the fallback loop first (its result has the field), then the watch as usual.
    assert entered[:4] == ["AlreadyDone?", "Wait", "Poll", "Route"]
    assert entered[-2:] == ["Complete", "Done"]
    (event,) = tap.wait_for(DetailType.SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert local_gmi.post_count == 1


def _run(stack: LocalStack, name: str, error_equals: list[str]) -> dict[str, Any]:
    """A one-task state machine whose Parameters read a path its input lacks (AWS: States.Runtime), with a
    Catch of `error_equals`; the execution's description once it ended."""
    queue_url = stack.outputs["SubmitQueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": queue_url, "MessageBody.$": "$.missing"},
        "Catch": [{"ErrorEquals": error_equals, "Next": "Caught"}],
        "End": True,
    }
    definition = {"StartAt": "Send", "States": {"Send": task, "Caught": {"Type": "Pass", "End": True}}}
    sfn = stack.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/test"
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.1)
    return dict(described)


def test_states_all_does_not_catch_states_runtime_in_the_local_stack(local_stack: LocalStack) -> None:
    """AWS's rule, applied to moto's interpreter (i2v_local.stack.compat.aws_error_rules): States.ALL does not
    catch States.Runtime (moto's own rule did, which hid defect 7); a Catch that names it does."""
    wildcard = _run(local_stack, "catch-all", ["States.ALL"])
    assert wildcard["status"] == "FAILED"
    assert wildcard["error"] == "States.Runtime"
    assert _run(local_stack, "catch-runtime", ["States.Runtime"])["status"] == "SUCCEEDED"
