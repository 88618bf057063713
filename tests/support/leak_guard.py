"""The leak guard (scenario 25): collect everything a test wrote down, through every channel, and scan it.

    guard = LeakGuard(secrets={api_key})
    guard.watch(stack)             # right after the stack started: taps its bus, adds its API key
    ...                            # the test runs
    guard.collect_stack(stack)     # while the stack still runs: table, events, queues, executions
    guard.add("cli output", text)  # anything else written down (captured stdout, log files, ...)
    guard.check()                  # fails on any secret, and on a guard that read nothing

Channels read from a stack (CHANNELS), each in full (every page):
- "dynamodb item": every item of the jobs table;
- "event": every event the pipeline's bus delivered (an SQS tap subscribed right after start);
- "dead letter" / "queued message": every message still on the DLQ / the submit queue (received with a
  visibility timeout so each is read once, then made visible again for whoever reads next);
- "execution" / "execution history": every execution of the state machine (input, output, error) and
  every event of its history.

`counts` says how many items each channel gave; `check()` fails if a watched stack was never collected
or if nothing at all was read, so a guard that stopped looking cannot pass quietly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from i2v_cli.taps import EventTap
from i2v_local.stack import LocalStack
from support.leaks import assert_no_secrets

CHANNELS = ("dynamodb item", "event", "dead letter", "queued message", "execution", "execution history")
_QUEUE_READ_SECONDS = 30  # long enough to page through a queue without seeing a message twice


@dataclass
class _Watched:
    stack: LocalStack
    tap: EventTap
    collected: bool = False


@dataclass
class LeakGuard:
    secrets: set[str] = field(default_factory=set)
    collected: list[tuple[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    watched: list[_Watched] = field(default_factory=list)

    def add_secret(self, value: str) -> None:
        if value:
            self.secrets.add(value)

    def add(self, channel: str, item: Any) -> None:
        """One thing written down, to be scanned (an item of a channel, a captured output, a file's text)."""
        self.collected.append((channel, item))
        self.counts[channel] += 1

    def watch(self, stack: LocalStack) -> EventTap:
        """Tap this stack's bus now and scan the stack when it is collected (call right after start())."""
        for existing in self.watched:
            if existing.stack is stack:
                return existing.tap
        tap = stack.tap_events()
        self.watched.append(_Watched(stack, tap))
        self.add_secret(stack.settings.api_key)
        return tap

    def collect_stack(self, stack: LocalStack) -> None:
        """Everything the pipeline stored in this stack, every page of it; must run while the stack is up."""
        watched = next((w for w in self.watched if w.stack is stack), None)
        outputs = stack.outputs
        ddb, sfn = stack.client("dynamodb"), stack.client("stepfunctions")
        for page in ddb.get_paginator("scan").paginate(TableName=outputs["JobsTableName"]):
            for item in page.get("Items", []):
                self.add("dynamodb item", item)
        if watched is not None:
            for event in watched.tap.drain():
                self.add("event", event)
            watched.collected = True
        for channel, url in (
            ("dead letter", outputs["DeadLetterQueueUrl"]),
            ("queued message", outputs["SubmitQueueUrl"]),
        ):
            for body in _every_message(stack.client("sqs"), url):
                self.add(channel, body)
        executions = sfn.get_paginator("list_executions").paginate(stateMachineArn=outputs["StateMachineArn"])
        for page in executions:
            for execution in page["executions"]:
                arn = execution["executionArn"]
                self.add("execution", sfn.describe_execution(executionArn=arn))
                for history in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                    for event in history["events"]:
                        self.add("execution history", event)

    def check(self) -> None:
        forgotten = [w.stack.settings.stack_name for w in self.watched if not w.collected]
        assert not forgotten, f"leak guard: stacks watched but never collected: {forgotten}"
        assert self.collected, "leak guard: nothing was collected, so nothing was scanned"
        for channel, item in self.collected:
            assert_no_secrets([item], sorted(self.secrets), what=channel)

    def forget(self) -> None:
        """Drop what was collected so far (tests of the guard itself, after a deliberate leak)."""
        self.collected.clear()
        self.counts.clear()


def _every_message(sqs: Any, queue_url: str) -> list[str]:
    """Every message of the queue, page by page (10 at most per receive), left visible again afterwards."""
    bodies: list[str] = []
    handles: list[str] = []
    while True:
        page = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=_QUEUE_READ_SECONDS
        ).get("Messages", [])
        if not page:
            break
        bodies.extend(message["Body"] for message in page)
        handles.extend(message["ReceiptHandle"] for message in page)
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return bodies
