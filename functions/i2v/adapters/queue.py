"""Delayed SQS messages: a job back on the submit queue for later (budget deferrals), a job's next look on the
watch queue."""

from __future__ import annotations

import json
from typing import Any

from i2v.adapters.aws import client
from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS, WatchMessage

MAX_DELAY_SECONDS = SQS_MAX_DELAY_SECONDS


class SubmitQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def __call__(self, body: dict[str, Any], delay_seconds: int) -> None:
        if not self.queue_url:
            raise RuntimeError("SUBMIT_QUEUE_URL is not configured; cannot defer")
        client("sqs").send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(body),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
        )


class WatchQueue:
    """The watch queue (i2v.services.watch): a job's next look, delayed."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, message: WatchMessage, delay_seconds: int) -> None:
        client("sqs").send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.body(),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
        )
