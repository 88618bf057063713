"""Subscribers for `i2v events`, the demo and tests: an SQS queue behind an EventBridge rule on a bus."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any


class EventTap:
    """Everything matching `pattern` on `bus`, delivered by moto's EventBridge to a fresh SQS queue."""

    def __init__(self, clients: Callable[[str], Any], bus: str, pattern: dict[str, Any]) -> None:
        self._sqs = clients("sqs")
        name = f"i2v-tap-{secrets.token_hex(4)}"
        self.queue_url: str = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = clients("events")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        self._account = arn.split(":")[4]  # the queue's account, which is the bus's
        self.received: list[dict[str, Any]] = []
        self._events, self._name, self._bus = events, name, bus

    def close(self) -> None:
        """Remove the rule and the queue (a tap on a long-running stack should not outlive its reader)."""
        self._events.remove_targets(Rule=self._name, EventBusName=self._bus, Ids=["tap"])
        self._events.delete_rule(Name=self._name, EventBusName=self._bus)
        self._sqs.delete_queue(QueueUrl=self.queue_url)

    def drain(self) -> list[dict[str, Any]]:
        """Everything delivered so far (cumulative)."""
        while True:
            messages = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return list(self.received)
            for message in messages:
                # moto's delivery omits `account`, which EventBridge always sends (typed subscribers require it).
                self.received.append({"account": self._account, **json.loads(message["Body"])})
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [e for e in self.drain() if e.get("detail-type") == detail_type]

    def wait_for(self, detail_type: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.of_type(detail_type)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)
