"""The local stack's SQS retention check (i2v_local.stack.sqs_retention), against moto itself: the same rule
(a message past the queue's MessageRetentionPeriod is not received), without reading every queue attribute,
and so scanning every message three times, per message received. Counted in calls, not timed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import SQSBackend, sqs_backends

from i2v_local.stack.sqs_retention import retention_read_once

REGION, QUEUED = "us-east-1", 60
CHECK = pytest.mark.parametrize(
    ("check", "reads_attributes"),
    [(retention_read_once, False), (nullcontext, True)],
    ids=["local-stack", "moto-as-is-canary"],
)


def _drain(sqs: Any, url: str) -> int:
    received = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        received += len(messages)
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


@CHECK
def test_receiving_reads_no_queue_attributes_per_message(
    monkeypatch: pytest.MonkeyPatch, check: Callable[[], AbstractContextManager[Any]], reads_attributes: bool
) -> None:
    with mock_aws(), check():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        for number in range(QUEUED):
            sqs.send_message(QueueUrl=url, MessageBody=str(number))
        reads = []
        read = SQSBackend.get_queue_attributes
        monkeypatch.setattr(SQSBackend, "get_queue_attributes", lambda *a, **k: reads.append(1) or read(*a, **k))
        assert _drain(sqs, url) == QUEUED
        assert (len(reads) >= QUEUED) is reads_attributes


@CHECK
def test_a_message_past_the_retention_period_is_not_received(
    check: Callable[[], AbstractContextManager[Any]], reads_attributes: bool
) -> None:
    with mock_aws(), check():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="old")
        (old,) = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues["short"]._messages
        old.sent_timestamp -= 59_000
        assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages")  # 59 s old: retained
        old.sent_timestamp -= 2_000
        assert not sqs.receive_message(QueueUrl=url).get("Messages")  # 61 s old: past the 60 s
