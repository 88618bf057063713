"""Delayed SQS messages: a job back on the submit queue for later (budget deferrals), a job's next look on the
watch queue."""

from __future__ import annotations

import json
from typing import Any

from i2v.adapters.aws import client
from i2v.domain.jobs import TransientError
from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS, WatchMessage


def send_delayed(queue_url: str, body: str, delay_seconds: int) -> None:
    """One message, delayed as far as SQS allows."""
    client("sqs").send_message(
        QueueUrl=queue_url, MessageBody=body, DelaySeconds=max(0, min(SQS_MAX_DELAY_SECONDS, delay_seconds))
    )


class SubmitQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def __call__(self, body: dict[str, Any], delay_seconds: int) -> None:
        if not self.queue_url:
            raise RuntimeError("SUBMIT_QUEUE_URL is not configured; cannot defer")
        send_delayed(self.queue_url, json.dumps(body), delay_seconds)

    def send_batch(self, bodies: list[dict[str, Any]]) -> None:
        """SendMessageBatch, 10 at a time; a message SQS refused raises (the caller's message comes back, and
        what was sent is idempotent downstream)."""
        sqs = client("sqs")
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps(body)}
                for index, body in enumerate(bodies[start : start + 10])
            ]
            failed = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed") or []
            if failed:
                raise TransientError(f"SQS refused {len(failed)} of {len(entries)} messages ({failed[0].get('Code')})")


class WatchQueue:
    """The watch queue (i2v.services.watch): a job's next look, delayed."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, message: WatchMessage, delay_seconds: int) -> None:
        send_delayed(self.queue_url, message.body(), delay_seconds)
