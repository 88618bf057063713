"""moto's SQS retention check at the cost of one attribute read, while the local stack runs.

For each message ReceiveMessage hands out, moto 5.2.5 checks the queue's MessageRetentionPeriod through
get_queue_attributes, which builds every attribute of the queue, the approximate counts included: three scans of
all its messages, for each message received. Draining a queue of n messages cost n^2 scans (the 1,000-line manifest
soak's event tap, thousands of events, took minutes to read). The same rule, reading the one attribute it needs.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend


def _within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return retention_seconds + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]


def retention_read_once() -> AbstractContextManager[Any]:
    patcher: AbstractContextManager[Any] = mock.patch.object(
        SQSBackend, "is_message_valid_based_on_retention_period", _within_retention
    )
    return patcher
