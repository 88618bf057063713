"""Puts a job back on the submit queue for later (budget deferrals), delayed as far as SQS allows."""

from __future__ import annotations

import json
from typing import Any

from i2v.adapters.aws import client

MAX_DELAY_SECONDS = 900


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
