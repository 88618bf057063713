"""Step Functions execution status change events, which moto does not emit.

The watcher looks at the stack's executions; when one ends it builds the event AWS would put on the
default bus, puts it there (so SQS-target rules see it) and delivers it to the template's rules with
Lambda targets in-process (moto's EventBridge cannot invoke Lambda targets). A failed delivery goes to
the target's dead-letter queue, as EventBridge does once its retries are exhausted.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from moto.events.models import EventPattern

from i2v_local.stack.lambdas import HandlerRouter
from i2v_local.stack.resources import STATUS_CHANGE, LambdaRuleSpec

logger = logging.getLogger(__name__)

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _millis(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else None


class ExecutionWatcher:
    def __init__(
        self,
        *,
        state_machine_arns: list[str],
        rules: list[LambdaRuleSpec],
        router: HandlerRouter,
        clients: Any,
        account: str,
        region: str,
    ) -> None:
        self.state_machine_arns = state_machine_arns
        self.rules = rules
        self.router = router
        self.clients = clients
        self.account = account
        self.region = region
        self.delivered: list[dict[str, Any]] = []  # every status change event emitted
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _executions(self, **filters: str) -> list[dict[str, Any]]:
        pages = self.clients("stepfunctions").get_paginator("list_executions")
        return [
            execution
            for arn in self.state_machine_arns
            for page in pages.paginate(stateMachineArn=arn, **filters)
            for execution in page["executions"]
        ]

    def running(self) -> list[str]:
        return [e["executionArn"] for e in self._executions(statusFilter="RUNNING")]

    def tick(self) -> int:
        """Emit the events of status changes (RUNNING, then the end) since the last tick; returns how many."""
        with self._lock:
            sfn = self.clients("stepfunctions")
            changed = []
            for summary in self._executions():
                arn, status = summary["executionArn"], summary["status"]
                # An execution that ended between two ticks still gets its RUNNING event first.
                for step in ("RUNNING", status) if status != "RUNNING" else ("RUNNING",):
                    if (arn, step) not in self._seen:
                        self._seen.add((arn, step))
                        changed.append((arn, step))
            for arn, step in changed:
                execution = sfn.describe_execution(executionArn=arn)
                self._emit(self._event({**execution, "status": step} if step == "RUNNING" else execution))
            return sum(1 for _, step in changed if step in TERMINAL)

    def _event(self, execution: dict[str, Any]) -> dict[str, Any]:
        running = execution["status"] == "RUNNING"
        detail = {
            "executionArn": execution["executionArn"],
            "stateMachineArn": execution["stateMachineArn"],
            "name": execution["name"],
            "status": execution["status"],
            "startDate": _millis(execution.get("startDate")),
            "stopDate": None if running else _millis(execution.get("stopDate")),
            "input": execution.get("input"),
            "output": None if running else execution.get("output"),
            "inputDetails": {"included": True},
            "outputDetails": {"included": True},
            "error": None if running else execution.get("error"),
            "cause": None if running else execution.get("cause"),
        }
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": STATUS_CHANGE,
            "source": "aws.states",
            "account": self.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [execution["executionArn"]],
            "detail": detail,
        }

    def _emit(self, event: dict[str, Any]) -> None:
        self.delivered.append(event)
        self.clients("events").put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                }
            ]
        )
        for rule in self.rules:
            pattern = EventPattern.load(json.dumps(rule.pattern))
            if rule.event_bus_name not in ("default", "") or not pattern.matches_event(cast(Any, event)):
                continue
            for target in rule.targets:
                result = self.router.invoke(target.function_arn, event)
                if result.error and target.dead_letter_arn:
                    self._dead_letter(target.dead_letter_arn, event, result.payload)

    def _dead_letter(self, queue_arn: str, event: dict[str, Any], error: Any) -> None:
        logger.warning("rule target failed; event sent to its dead-letter queue: %s", error)
        sqs = self.clients("sqs")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
