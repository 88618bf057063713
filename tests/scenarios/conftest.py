"""Scenario fixtures: a recognisable GMI API key, and a leak guard around every scenario (scenario 25).

Every test in tests/scenarios runs under `leak_guard` (autouse). It captures what the functions write
(stdout/stderr: their JSON logs and EMF metrics), the log records (caplog), and, for every local stack the
test starts (through `local_stack_factory` / `local_stack` / `pipeline`, or `leak_guard.watch(stack)`),
every item of the jobs table, every event delivered on the pipeline's bus, every message left in the DLQ
and every Step Functions execution history. At the end of the test it fails if any of them contains the
GMI API key, a presigned-URL signature seen during the test, or a signed-URL marker
(X-Amz-Signature, X-Amz-Credential, X-Goog-Signature, ...) that is not redacted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from i2v.adapters.storage import SourceImages
from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalStack
from i2v_local.stack.taps import EventTap
from support.leaks import assert_no_secrets

# Recognisable, so a leak is unmistakable; long enough for the functions' redaction (>= 6 chars).
SCENARIO_API_KEY = "sk-i2v-scenario-CANARY-5f0c9e1ab7d2"


@pytest.fixture(scope="module")
def local_gmi() -> Iterator[GmiSimulator]:
    """Overrides the shared simulator: same zero timing, but the scenarios' recognisable API key (the local
    stack reads the key from the simulator, so the secret in Secrets Manager is this one)."""
    with GmiSimulator(timing=Timing.zero(), api_key=SCENARIO_API_KEY) as simulator:
        yield simulator


class _CurrentStdout:
    """A stream that is always the current sys.stdout (as print() is)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@dataclass
class _Watched:
    stack: LocalStack
    tap: EventTap


@dataclass
class LeakGuard:
    """Collects everything a scenario wrote down; `check()` fails on any secret in it."""

    capfd: pytest.CaptureFixture[str]
    caplog: pytest.LogCaptureFixture
    secrets: set[str] = field(default_factory=lambda: {SCENARIO_API_KEY})
    collected: list[tuple[str, Any]] = field(default_factory=list)
    watched: list[_Watched] = field(default_factory=list)
    _output: list[str] = field(default_factory=list)

    # ---- what the tests use ------------------------------------------------------------------------------
    def output(self) -> str:
        """Everything written to stdout/stderr so far in this test (function logs, EMF metrics)."""
        out, err = self.capfd.readouterr()
        self._output.extend((out, err))
        return "".join(self._output)

    def json_lines(self) -> list[dict[str, Any]]:
        """The JSON documents among the output lines (one per log line / EMF blob)."""
        found = []
        for raw in self.output().splitlines():
            line = raw.strip()
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    found.append(json.loads(line))
        return found

    def metric_values(self, name: str) -> list[float]:
        """Values of one EMF metric written by the functions in this test."""
        values: list[float] = []
        for document in self.json_lines():
            if "_aws" in document and name in document:
                raw = document[name]
                values.extend(raw if isinstance(raw, list) else [raw])
        return values

    def discard(self) -> None:
        """Forget what was captured so far (for tests of the guard itself, after a deliberate leak)."""
        self.output()
        self._output.clear()
        self.collected.clear()
        self.caplog.clear()

    def add_secret(self, value: str) -> None:
        self.secrets.add(value)

    def watch(self, stack: LocalStack) -> EventTap:
        """Scan this stack's table, bus, DLQ and executions at the end (call right after start())."""
        for existing in self.watched:
            if existing.stack is stack:
                return existing.tap
        tap = stack.tap_events()
        self.watched.append(_Watched(stack, tap))
        self._capture_log_stream()
        self.add_secret(stack.settings.api_key)
        return tap

    def _capture_log_stream(self) -> None:
        """Powertools bound its handler to whatever sys.stdout was when a stack first imported it: a capture
        file of some earlier test phase, closed by now. Point it at the current sys.stdout (as print() does),
        which this test captures. Left in place afterwards: the file it replaced is closed."""
        from i2v.handlers.observability import logger

        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, _CurrentStdout):
            handler.stream = _CurrentStdout()

    # ---- collection --------------------------------------------------------------------------------------
    def collect_stack(self, stack: LocalStack) -> None:
        """Everything the pipeline stored in this stack; must run while the stack is up."""
        watched = next((w for w in self.watched if w.stack is stack), None)
        outputs = stack.outputs
        ddb, sqs, sfn = stack.client("dynamodb"), stack.client("sqs"), stack.client("stepfunctions")
        for page in ddb.get_paginator("scan").paginate(TableName=outputs["JobsTableName"]):
            self.collected.extend(("dynamodb item", item) for item in page.get("Items", []))
        if watched is not None:
            self.collected.extend(("event", event) for event in watched.tap.drain())
        dead = sqs.receive_message(
            QueueUrl=outputs["DeadLetterQueueUrl"], MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        self.collected.extend(("dead letter", message["Body"]) for message in dead)
        machine = outputs["StateMachineArn"]
        for execution in sfn.list_executions(stateMachineArn=machine)["executions"]:
            arn = execution["executionArn"]
            self.collected.append(("execution", sfn.describe_execution(executionArn=arn)))
            self.collected.append(("execution history", sfn.get_execution_history(executionArn=arn)["events"]))

    def check(self) -> None:
        self.output()
        items: list[tuple[str, Any]] = [("stdout/stderr", text) for text in self._output if text]
        items += [("log record", record.getMessage()) for record in self.caplog.records]
        items += [("log text", self.caplog.text)]
        items += self.collected
        for what, item in items:
            assert_no_secrets([item], sorted(self.secrets), what=what)


@pytest.fixture(autouse=True)
def leak_guard(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LeakGuard]:
    """Scenario 25, for every scenario: no API key and no presigned signature in anything written down."""
    caplog.set_level(logging.INFO)
    guard = LeakGuard(capfd, caplog)

    # Remember the signature of every presigned URL handed to GMI: it must not show up anywhere either.
    original_presign = SourceImages.presign_get

    def presign_and_remember(self: SourceImages, *args: Any, **kwargs: Any) -> str:
        url = original_presign(self, *args, **kwargs)
        query = parse_qs(urlsplit(url).query)
        for name in ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"):
            for value in query.get(name, []):
                if len(value) >= 16:
                    guard.add_secret(value)
        return url

    monkeypatch.setattr(SourceImages, "presign_get", presign_and_remember)
    yield guard
    guard.check()


@pytest.fixture
def local_stack_factory(
    local_stack_factory: Callable[..., LocalStack], leak_guard: LeakGuard
) -> Iterator[Callable[..., LocalStack]]:
    """The shared factory, with each stack watched by the leak guard (scanned before it stops)."""
    made: list[LocalStack] = []

    def make(*args: Any, **options: Any) -> LocalStack:
        stack = local_stack_factory(*args, **options)
        leak_guard.watch(stack)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        leak_guard.collect_stack(stack)


@pytest.fixture
def scenario_api_key() -> str:
    return SCENARIO_API_KEY


@pytest.fixture
def watched_stack(
    cdk_template: dict[str, Any], leak_guard: LeakGuard
) -> Callable[..., contextlib.AbstractContextManager[LocalStack]]:
    """`with watched_stack(settings) as stack:` a stack built outside the factory (e.g. on its own simulator),
    still scanned by the leak guard before it stops."""

    @contextlib.contextmanager
    def open_stack(settings: Any) -> Iterator[LocalStack]:
        with LocalStack(cdk_template, settings) as stack:
            leak_guard.watch(stack)
            try:
                yield stack
            finally:
                leak_guard.collect_stack(stack)

    return open_stack
