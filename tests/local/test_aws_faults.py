"""The local stack's AWS faults (i2v_local.stack.aws_faults), each shown to do what AWS documents:

- SQS standard queues deliver at least once: the same message (same MessageId, another receipt handle) may come
  twice, in one batch or later;
- a Lambda invocation killed at its timeout: what it did is kept, its partial batch response is lost, and the whole
  batch, records already handled included, becomes visible again (not before the function's timeout);
- a throttled receive: the message is not handed to the function, comes back after the visibility timeout with a
  higher ApproximateReceiveCount, and is dead-lettered at maxReceiveCount;
- an execution input of the previous release: the fields added since are dropped.

The pump runs a probe handler (tests/support/probe_handler.py: one AWS call and one side effect per record) over
queues in moto; SQS's clock is moved rather than waited for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import boto3
import moto.sqs.models
import pytest
from moto import mock_aws

from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import ExecutionInput
from i2v_local.stack import HandlerRouter, SqsPump
from i2v_local.stack.aws_faults import (
    DUPLICATE,
    KILLED,
    PREVIOUS_INPUT,
    THROTTLED,
    AwsFaults,
    FaultRule,
    previous_release_input,
)
from i2v_local.stack.resources import EventSourceSpec, FunctionSpec
from support import probe_handler

pytestmark = pytest.mark.xdist_group(__name__)

MAX_RECEIVE_COUNT = 5
TIMEOUT = 30  # the probe function's configured timeout


@dataclass
class Rig:
    sqs: Any
    queue_url: str
    dlq_url: str
    effects_url: str
    spec: FunctionSpec
    source: EventSourceSpec
    patches: ExitStack
    offset: float = 0.0  # seconds SQS's clock is moved ahead

    def pump(self, faults: AwsFaults, timeout: int = TIMEOUT) -> tuple[SqsPump, HandlerRouter]:
        self.patches.enter_context(faults.installed())  # as LocalStack does: count the calls, for kills
        spec = FunctionSpec(**{**self.spec.__dict__, "timeout_seconds": timeout})
        router = HandlerRouter([spec])
        return SqsPump(self.source, router, self.sqs, "us-east-1", visibility_timeout=1, faults=faults), router

    def send(self, *bodies: str) -> list[str]:
        return [self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=b)["MessageId"] for b in bodies]

    def effects(self) -> list[str]:
        found = []
        while messages := self.sqs.receive_message(QueueUrl=self.effects_url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                found.append(message["Body"])
                self.sqs.delete_message(QueueUrl=self.effects_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def visible(self, url: str | None = None) -> list[dict[str, Any]]:
        """Look at what is visible now without taking it (visibility 0)."""
        return self.sqs.receive_message(
            QueueUrl=url or self.queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(), ExitStack() as patches:
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq_url = sqs.create_queue(QueueName="probe-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
        queue_url = sqs.create_queue(
            QueueName="probe", Attributes={"VisibilityTimeout": str(6 * TIMEOUT), "RedrivePolicy": redrive}
        )["QueueUrl"]
        effects_url = sqs.create_queue(QueueName="probe-effects")["QueueUrl"]
        monkeypatch.setenv("PROBE_EFFECTS_URL", effects_url)
        arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
        spec = FunctionSpec("ProbeWatcherFunction", "probe", arn, "support.probe_handler.handler", {}, TIMEOUT, 128)
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        source = EventSourceSpec("probe", queue_url, queue_arn, 10, None, True)
        rig = Rig(sqs, queue_url, dlq_url, effects_url, spec, source, patches)
        real_millis = moto.sqs.models.unix_time_millis
        monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + rig.offset * 1000)
        yield rig


def _records(router: HandlerRouter) -> list[list[dict[str, Any]]]:
    return [event["Records"] for _name, event, _result in router.invocations]


def test_a_duplicate_in_the_same_batch_has_the_same_message_id_and_another_receipt_handle(rig: Rig) -> None:
    faults = AwsFaults({DUPLICATE: FaultRule(1.0, limit=1, same_batch=True)})
    pump, router = rig.pump(faults)
    (message_id,) = rig.send("one")

    pump.pump()

    (batch,) = _records(router)
    assert [r["messageId"] for r in batch] == [message_id, message_id]
    assert batch[0]["receiptHandle"] != batch[1]["receiptHandle"]
    assert rig.effects() == [message_id, message_id]  # handled twice
    rig.offset += 2 * 6 * TIMEOUT
    assert rig.visible() == []  # and deleted: no third delivery
    assert (faults.planned[DUPLICATE], faults.fired[DUPLICATE]) == (1, 1)


def test_a_later_duplicate_comes_back_after_the_visibility_timeout_with_the_same_message_id(rig: Rig) -> None:
    faults = AwsFaults({DUPLICATE: FaultRule(1.0, limit=1, same_batch=False)})
    pump, router = rig.pump(faults)
    (message_id,) = rig.send("one")

    pump.pump()
    assert rig.effects() == [message_id]
    assert pump.pump() == 0  # not yet: it is invisible for the visibility timeout
    rig.offset += 2
    pump.pump()

    first, second = _records(router)
    assert first[0]["messageId"] == second[0]["messageId"] == message_id
    assert first[0]["receiptHandle"] != second[0]["receiptHandle"]
    assert second[0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert rig.effects() == [message_id]
    rig.offset += 2 * 6 * TIMEOUT
    assert rig.visible() == []
    assert faults.fired[DUPLICATE] == 1


def test_a_killed_batch_keeps_its_side_effects_and_comes_back_whole_after_the_function_timeout(rig: Rig) -> None:
    """Killed at its 2nd AWS call: the first record was handled (its effect stays), the batch's answer is lost,
    and all three records, the handled one included, are delivered again once the timeout is over."""
    faults = AwsFaults({KILLED: FaultRule(1.0, limit=1, kill_at_call=2)})
    pump, router = rig.pump(faults)
    sent = rig.send("a", "b", "c")

    pump.pump()

    ((_name, _event, result),) = router.invocations
    assert result.killed
    assert result.error
    assert result.payload["errorType"] == "Sandbox.Timedout"
    (handled,) = rig.effects()
    assert handled == sent[0]
    rig.offset += TIMEOUT - 5
    assert rig.visible() == []  # not before the function's timeout is over
    rig.offset += 10
    again = rig.visible()
    assert sorted(m["MessageId"] for m in again) == sorted(sent)
    pump.pump()
    assert sorted(rig.effects()) == sorted(sent)  # the handled record is handled a second time
    assert (faults.planned[KILLED], faults.fired[KILLED], pump.stats.killed) == (1, 1, 1)


def test_an_invocation_past_its_timeout_is_killed_at_its_next_call_and_its_context_is_honest(rig: Rig) -> None:
    faults = AwsFaults({KILLED: FaultRule(0.0)})  # no planned kill: only the timeout
    probe_handler.remaining.clear()
    pump, router = rig.pump(faults, timeout=1)
    rig.send("slow")

    pump.pump()

    ((_name, _event, result),) = router.invocations
    assert result.killed
    assert rig.effects() == []  # the call after the timeout never went out
    assert 0 < probe_handler.remaining[0] <= 1000
    assert faults.fired[KILLED] == 1


def test_a_throttled_message_counts_its_receives_and_is_dead_lettered_at_max_receive_count(rig: Rig) -> None:
    faults = AwsFaults({THROTTLED: FaultRule(1.0)})  # every receive throttled: the function never gets it
    pump, router = rig.pump(faults)
    (message_id,) = rig.send("one")

    for _ in range(MAX_RECEIVE_COUNT + 2):
        pump.pump()
        rig.offset += 2  # past the visibility timeout

    assert router.invocations == []
    assert pump.stats.throttled_receive_counts == [1, 2, 3, 4, 5]  # one more per throttled receive
    assert faults.fired[THROTTLED] == MAX_RECEIVE_COUNT
    (dead,) = rig.visible(rig.dlq_url)
    assert dead["MessageId"] == message_id


def test_the_same_seed_plans_the_same_faults() -> None:
    def plan(seed: int) -> list[bool]:
        faults = AwsFaults.seeded(seed)
        return [faults.draw(DUPLICATE, "WatcherFunction") for _ in range(500)]

    assert plan(3) == plan(3)
    assert plan(3) != plan(4)
    assert any(plan(3)[:20])  # first_within: a small run has one too


def test_the_previous_release_input_lacks_what_was_added_since() -> None:
    current = ExecutionInput.first(
        job_id="j",
        attempt=1,
        request_id="r",
        model="m",
        time_class={"quality": "540p"},
        submitted_at=1.0,
        deadline_at=2.0,
        gmi_status="queued",
        expectation=None,
        first_wait_seconds=5,
    ).model_dump(mode="json")
    current["input_version"] = 2  # anything a later release adds is dropped too

    old = json.loads(previous_release_input(json.dumps(current)))

    assert "queue_delay_seconds" in current["poll"]
    assert "queue_delay_seconds" not in old["poll"]
    assert "input_version" not in old
    assert old["poll"]["outcome"] == PollOutcome.WAITING
    assert {k: v for k, v in current.items() if k != "input_version"} == {**old, "poll": current["poll"]}


def test_a_previous_release_input_is_decided_once_per_execution_name() -> None:
    faults = AwsFaults({PREVIOUS_INPUT: FaultRule(1.0, limit=1)})
    assert faults.old_input_for("job-1") is True
    assert faults.old_input_for("job-2") is False  # the limit
    assert faults.old_input_for("job-1") is True  # a restart of job-1 gets the same input
    assert (faults.planned[PREVIOUS_INPUT], faults.fired[PREVIOUS_INPUT]) == (1, 1)


def test_the_internals_the_faults_and_limits_patch_are_unchanged() -> None:
    """Canary, like compat.py's: the private functions aws_faults, s3limits and timewarp.sqs_clock replace."""
    from botocore.client import BaseClient
    from moto.s3.responses import S3Response
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from requests import Session

    from i2v_local.stack.compat import normalized_signature

    response = "(self) -> tuple[int, dict[str, Any], str | bytes]"
    expected = {
        BaseClient._make_api_call: "(self, operation_name, api_params)",  # type: ignore[attr-defined]
        Session.send: "(self, request: PreparedRequest, **kwargs: Any) -> Response",
        StepFunctionsParserBackend.start_execution: (
            "(self, state_machine_arn: str, name: str = None, execution_input: str = None, trace_header: str = None)"
            " -> Execution"
        ),
        S3Response.put_object: response,
        S3Response.copy_object: response,
        S3Response._key_response_post: (
            "(self, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key_name: str)"
            " -> tuple[int, dict[str, Any], str | bytes]"
        ),
        moto.sqs.models.unix_time_millis: "(dt: datetime | None = None) -> float",  # type: ignore[attr-defined]
    }
    assert {f.__qualname__: normalized_signature(f) for f in expected} == {
        f.__qualname__: sig for f, sig in expected.items()
    }
