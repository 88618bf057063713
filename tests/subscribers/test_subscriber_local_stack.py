"""Subscribing, end to end in the local stack: the typed package reads every event of a real run, and the
configured webhook is delivered by the signer Lambda to a local receiver and verified with `standardwebhooks`."""

from __future__ import annotations

import base64
import json
import logging
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from i2v_events import parse_event, parse_webhook
from i2v_events.v1 import DETAIL_KINDS, DETAIL_MODELS, DetailType
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalSettings, LocalStack
from i2v_local.stack.aws_faults import DUPLICATE, WEBHOOKS, AwsFaults, FaultRule
from i2v_local.stack.driver import PipelineDriver
from support.leaks import assert_no_secrets
from support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.xdist_group(__name__)

CONFIGURED_URL = "https://hooks.example.com/i2v"
SECRET = "whsec_" + base64.b64encode(b"local-webhook-key-24byte").decode()
# The kinds the webhook subscribes to (Preview Ready is not: its events get no webhook).
HOOKED = ("submitted", "succeeded", "failed")


@pytest.fixture(scope="module")
def webhook_template() -> dict[str, Any]:
    """The app's template with one webhook, for the kinds in HOOKED (synthesized like `cdk synth` does)."""
    from i2v_infra.synth import synthesize

    hook = {"name": "local", "url": CONFIGURED_URL, "events": list(HOOKED)}
    with tempfile.TemporaryDirectory(prefix="i2v-cdk-webhooks-") as outdir:
        return synthesize(outdir, nag=False, config_overrides={"webhooks": [hook]}).template


def start_stack(template: dict[str, Any], gmi: GmiSimulator, receiver_url: str, **options: Any) -> LocalStack:
    # The same template, its receiver moved to this machine (the real one is an https URL of the user's).
    local = json.loads(json.dumps(template).replace(CONFIGURED_URL, receiver_url))
    gmi.reset()
    stack = LocalStack(local, LocalSettings.for_simulator(gmi, gmi_timeout_seconds=1.0, **options)).start()
    # The stack generated the signing secret; as after a deploy, the operator reads (here: sets) it.
    receivers = json.loads(stack.function("WebhooksSigner").environment["WEBHOOKS"])
    stack.client("secretsmanager").put_secret_value(SecretId=receivers["local"]["secret_arn"], SecretString=SECRET)
    return stack


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_typed_package_and_signed_webhooks_in_a_real_run(
    webhook_template: dict[str, Any], local_gmi: GmiSimulator, receiver: WebhookReceiver, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    stack = start_stack(webhook_template, local_gmi, receiver.url)
    try:
        pipeline, tap = PipelineDriver(stack), stack.tap_events()
        pipeline.upload("incoming/subscribers/fine.png", prompt="a calm sea")
        pipeline.upload("incoming/subscribers/fails.png", prompt="x [sim:fail message=render-exploded]")
        stack.run_until_idle(timeout=60)
        events = tap.drain()
        items = stack.client("dynamodb").scan(TableName=stack.outputs["JobsTableName"])["Items"]
        dead_letters = stack.client("sqs").receive_message(
            QueueUrl=stack.client("sqs").get_queue_url(
                QueueName=stack.physical_id("WebhooksDeadLetterQueue", "AWS::SQS::Queue").rsplit("/", 1)[-1]
            )["QueueUrl"]
        )
    finally:
        stack.stop()

    # The typed package reads every event of the run, each as its own model.
    parsed = [parse_event(event) for event in events]
    assert all(type(event.detail) is DETAIL_MODELS[DetailType(event.detail_type)] for event in parsed)
    # Every job event (a run without a manifest has no Manifest Completed).
    assert {event.detail_type for event in parsed} == {str(t) for t in DetailType} - {DetailType.MANIFEST_COMPLETED}

    # One webhook per event, each verified with the reference Standard Webhooks library, its data the event's.
    hooked = [event for event in events if event["detail-type"] in {DETAIL_KINDS[kind] for kind in HOOKED}]
    assert len(receiver.received) == len(hooked)
    by_id = {event["id"]: event for event in events}
    for delivery in receiver.received:
        assert delivery.path == "/hooks/i2v"
        payload = Webhook(SECRET).verify(delivery.body, delivery.headers)
        event = by_id[delivery.headers["webhook-id"].removeprefix("msg_")]
        assert payload["data"] == event["detail"]
        assert type(parse_webhook(delivery.body).data) is type(parse_event(event).detail)
    assert "Messages" not in dead_letters

    # The signing secret is nowhere: not in logs, events, webhook bodies or job records.
    bodies = [delivery.body for delivery in receiver.received]
    assert_no_secrets([caplog.text, events, bodies, items], secrets=[SECRET, SECRET.removeprefix("whsec_")])


def test_a_receiver_that_keeps_failing_gets_retries_then_the_dead_letter_queue(
    webhook_template: dict[str, Any], local_gmi: GmiSimulator
) -> None:
    with WebhookReceiver(status=503) as down:
        stack = start_stack(webhook_template, local_gmi, down.url)
        try:
            PipelineDriver(stack).upload("incoming/subscribers/rejected.jpg", body=b"not an image")
            stack.run_until_idle(timeout=60)
            sqs = stack.client("sqs")
            queue = stack.physical_id("WebhooksDeadLetterQueue", "AWS::SQS::Queue").rsplit("/", 1)[-1]
            messages = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])["Messages"]
        finally:
            stack.stop()
    # One Failed (rejected) event: the first attempt and Lambda's two asynchronous retries, then the DLQ.
    assert len(down.received) == 3
    assert len({d.headers["webhook-id"] for d in down.received}) == 1
    (dead,) = messages
    assert json.loads(dead["Body"])["event"]["detail"]["status"] == "rejected"


def test_an_event_delivered_twice_reaches_the_receiver_twice_with_one_webhook_id(
    webhook_template: dict[str, Any], local_gmi: GmiSimulator, receiver: WebhookReceiver
) -> None:
    """EventBridge and Lambda's asynchronous invoke deliver at least once (the local stack's duplicate_delivery
    on the bus's Lambda rules): the receiver gets the copy with the same webhook-id, which it de-duplicates on."""
    faults = AwsFaults({DUPLICATE: FaultRule(1.0, channels=(WEBHOOKS,), limit=1)})
    stack = start_stack(webhook_template, local_gmi, receiver.url, aws_faults=faults)
    try:
        PipelineDriver(stack).upload("incoming/subscribers/twice.jpg", body=b"not an image")
        stack.run_until_idle(timeout=60)
    finally:
        stack.stop()

    assert faults.fired[DUPLICATE] == 1
    first, second = receiver.received  # one Failed (rejected) event, delivered twice
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
