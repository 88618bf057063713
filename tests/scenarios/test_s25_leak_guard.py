"""Scenario 25: logs, records, events (and execution histories) never contain the API key or a presigned
signature. The check itself runs after every scenario (the autouse `leak_guard` in conftest.py); these tests
show that it would fail on a real leak, and that redacted text passes."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from i2v.domain import gmi_answers
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalSettings, LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import send, take_notifications
from support.leak_guard import CHANNELS, LeakGuard
from support.leaks import assert_no_secrets

pytestmark = pytest.mark.xdist_group(__name__)

SIGNED_URL = (
    "https://in.s3.amazonaws.com/incoming/a.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIAEXAMPLE%2F20250620%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
)


def _leaks(text: Any, key: str) -> bool:
    try:
        assert_no_secrets([text], [key])
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize(
    "leaking",
    [
        "plain {key} in a message",
        "Authorization: Bearer {key}",
        "url-encoded: key%3D{key_quoted}",
        '{{"detail": {{"image_url": "' + SIGNED_URL + '"}}}}',
        "only the signature: X-Amz-Signature=abcdef0123456789",
        "a GCS video URL: https://storage.googleapis.com/v.mp4?X-Goog-Signature=0a1b2c3d",
    ],
)
def test_s25_scan_flags_each_kind_of_leak(scenario_api_key: str, leaking: str) -> None:
    text = leaking.format(key=scenario_api_key, key_quoted=quote(scenario_api_key, safe=""))
    assert _leaks(text, scenario_api_key)


@pytest.mark.parametrize(
    "clean",
    [
        "Authorization: Bearer [REDACTED]",
        "https://in.s3.amazonaws.com/incoming/a.png?[REDACTED]",
        "X-Amz-Signature=[REDACTED]&X-Amz-Credential=[REDACTED]",
        "GMI answered 401: missing or invalid API key (expected Authorization: Bearer <key>)",
    ],
)
def test_s25_scan_passes_redacted_text(scenario_api_key: str, clean: str) -> None:
    assert not _leaks(clean, scenario_api_key)


def test_s25_guard_refuses_to_pass_when_it_read_nothing_or_forgot_a_stack(
    local_stack: LocalStack, scenario_api_key: str
) -> None:
    with pytest.raises(AssertionError, match="nothing was collected"):
        LeakGuard(secrets={scenario_api_key}).check()
    forgetful = LeakGuard(secrets={scenario_api_key})
    forgetful.watch(local_stack)
    forgetful.add("stdout/stderr", "clean text")
    with pytest.raises(AssertionError, match="never collected"):
        forgetful.check()


def test_s25_guard_collects_every_channel_of_a_real_run(
    local_stack_factory: Callable[..., LocalStack], leak_guard: Any
) -> None:
    """A job that succeeds, a poison message dead-lettered, a notification still queued: every channel the
    guard reads gives it something, so a guard that stopped reading one of them fails here."""
    stack = local_stack_factory(pump_visibility_timeout=0)  # the poison message reaches the DLQ quickly
    pipeline = PipelineDriver(stack)
    job_id = pipeline.upload("incoming/guard/every-channel.png")
    (notification,) = take_notifications(stack)
    send(stack, notification, "poison: not a notification {")
    stack.run_until_idle(timeout=30)
    assert pipeline.job(job_id).status == "succeeded"
    send(stack, notification)  # a duplicate nobody has picked up yet

    guard = LeakGuard(secrets=set(leak_guard.secrets))
    guard.watched = list(leak_guard.watched)  # the fixture's tap has seen every event since the start
    guard.collect_stack(stack)

    assert {channel: guard.counts[channel] for channel in CHANNELS} == {
        channel: guard.counts[channel] or "nothing read" for channel in CHANNELS
    }
    assert guard.counts["dead letter"] == 1
    assert guard.counts["queued message"] == 1
    assert guard.counts["execution"] == len(pipeline.executions()) == 1
    assert leak_guard.output()  # the functions' own logs are captured too
    guard.check()  # and all of it is clean


def test_s25_guard_fails_on_a_leak_in_any_channel(
    cdk_template: dict[str, Any], local_gmi: GmiSimulator, leak_guard: Any, scenario_api_key: str
) -> None:
    """A secret put into each channel through that channel's own API is found there, and named."""

    def leak_item(stack: LocalStack) -> Callable[[], None]:
        key = {"pk": {"S": "LEAK#1"}, "sk": {"S": "JOB"}}
        ddb, table = stack.client("dynamodb"), stack.outputs["JobsTableName"]
        ddb.put_item(TableName=table, Item={**key, "failure": {"S": f"GMI said {scenario_api_key}"}})
        return lambda: ddb.delete_item(TableName=table, Key=key)

    def leak_event(stack: LocalStack) -> Callable[[], None]:
        source = stack.function_environment()["EVENT_SOURCE"]
        stack.client("events").put_events(
            Entries=[
                {
                    "EventBusName": stack.outputs["EventBusName"],
                    "Source": source,
                    "DetailType": "Video Generation Failed",
                    "Detail": json.dumps({"image_url": SIGNED_URL}),
                }
            ]
        )
        return lambda: None  # the next guard taps the bus afresh

    def leak_on(queue: str) -> Callable[[LocalStack], Callable[[], None]]:
        def leak(stack: LocalStack) -> Callable[[], None]:
            sqs, url = stack.client("sqs"), stack.outputs[queue]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"image_url": SIGNED_URL}))
            return lambda: sqs.purge_queue(QueueUrl=url)

        return leak

    def leak_execution(stack: LocalStack) -> Callable[[], None]:
        sfn = stack.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=stack.outputs["StateMachineArn"], name="leaky", input=json.dumps({"key": scenario_api_key})
        )["executionArn"]
        # The history is written as the execution starts, not with the call's answer: wait for it (a slow host
        # otherwise collects an empty history).
        deadline = time.monotonic() + 30
        while not sfn.get_execution_history(executionArn=arn)["events"] and time.monotonic() < deadline:
            time.sleep(0.1)
        return lambda: None  # last: executions cannot be deleted

    leaks: list[tuple[set[str], Callable[[LocalStack], Callable[[], None]]]] = [
        ({"dynamodb item"}, leak_item),
        ({"event"}, leak_event),
        ({"dead letter"}, leak_on("DeadLetterQueueUrl")),
        ({"queued message"}, leak_on("SubmitQueueUrl")),
        ({"execution", "execution history"}, leak_execution),
    ]
    # Not watched by the fixture's guard: this stack is meant to leak.
    with LocalStack(cdk_template, LocalSettings.for_simulator(local_gmi)) as stack:
        for channels, leak in leaks:
            guard = LeakGuard(secrets={scenario_api_key})
            guard.watch(stack)
            guard.collect_stack(stack)
            guard.add("note", "clean before the leak")
            guard.check()
            guard.forget()
            undo = leak(stack)
            guard.collect_stack(stack)
            with pytest.raises(AssertionError, match="secret leak") as found:
                guard.check()
            named = set(re.findall(r"secret leak\(s\) in ([a-z /]+):", str(found.value)))
            assert named <= channels, named
            for channel in channels:
                assert _leaks([item for what, item in guard.collected if what == channel], scenario_api_key), channel
            undo()

    # The test's own output channels: stdout/stderr and log records.
    outputs = {
        "stdout/stderr": lambda: print(f'{{"message": "calling GMI with {scenario_api_key}"}}'),
        "log record": lambda: logging.getLogger("scenario.third_party").warning("GET %s", SIGNED_URL),
    }
    for channel, leak_output in outputs.items():
        leak_guard.discard()
        leak_output()
        with pytest.raises(AssertionError, match="secret leak") as found:
            leak_guard.check()
        assert f"in {channel}:" in str(found.value)
    leak_guard.discard()
    leak_guard.add("stdout/stderr", "clean")  # this test's own final scan has something to read


def test_s25_guard_catches_a_real_leak_from_the_pipeline(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    scenario_api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the redaction of GMI's errors switched off, GMI echoing the key ends up in the job record: the guard
    finds it there. (With redaction on, the same run is clean: test_s10's 403 case.)"""
    monkeypatch.setattr(gmi_answers, "redact", lambda text: text)  # GmiError redacts
    local_gmi.inject("post_refused", count=1, status=403, message=f"the key {scenario_api_key} is not allowed")
    job_id = pipeline.upload("incoming/leaky.png")
    local_stack.run_until_idle(timeout=30)
    assert pipeline.job(job_id).status == "failed"

    leak_guard.collect_stack(local_stack)
    with pytest.raises(AssertionError, match="secret leak") as found:
        leak_guard.check()
    assert "dynamodb item" in str(found.value)
    assert scenario_api_key not in str(found.value)  # the report itself masks the secret

    # Clean up the deliberate leak so this test's own final scan passes.
    local_stack.client("dynamodb").delete_item(
        TableName=local_stack.outputs["JobsTableName"], Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}
    )
    leak_guard.discard()
