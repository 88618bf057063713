"""AWS's own misbehaviour in the local stack, seeded and counted like the GMI simulator's faults.

    faults = AwsFaults.seeded(7)                       # every fault on (the soak's mix), or
    faults = AwsFaults({DUPLICATE: FaultRule(1.0, channels=("Watcher",), limit=1)})
    LocalStack(template, LocalSettings.for_simulator(sim, aws_faults=faults))
    faults.planned, faults.fired                        # Counters by fault name

Which event gets a fault is decided by the seed alone: the n-th event a fault could hit on a channel (a
received message, a batch, a StartExecution) is hit when a hash of (seed, fault, channel, n) falls under the
rule's share, so a plan is fixed before anything runs. The faults (README of this package cites AWS's documentation):

- `duplicate_delivery`: a received message is delivered twice, same MessageId: in the same batch (another
  receipt handle) or, its delete withheld, again after the visibility timeout (submit, watch, webhook queues);
- `killed_at_timeout`: a pumped invocation ends at the k-th AWS or GMI call it makes (k seeded), or at its first
  call past the function's configured timeout: what it did so far stays done, its answer is lost and the whole
  batch comes back (`InvocationKilled`, a BaseException, so no `except Exception` of a handler can catch it);
- `throttled_receive`: a received message is not handed to the function; it comes back after the visibility
  timeout, its ApproximateReceiveCount one higher (moto dead-letters it past maxReceiveCount, as SQS does);
- `previous_release_input`: StartExecution's input rewritten to the previous release's shape
  (`previous_release_input`), decided per execution name, so an idempotent restart gets the same input.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from requests import Session

DUPLICATE = "duplicate_delivery"
KILLED = "killed_at_timeout"
THROTTLED = "throttled_receive"
PREVIOUS_INPUT = "previous_release_input"
AWS_FAULTS = (DUPLICATE, KILLED, THROTTLED, PREVIOUS_INPUT)

# Channels: a pumped function's logical id ("...SubmitFunction...", "...WatcherFunction..."), WEBHOOKS for the
# deliveries of the bus's Lambda rules, EXECUTIONS for StartExecution.
WEBHOOKS = "webhooks"
EXECUTIONS = "executions"
KILL_WITHIN_CALLS = 6  # a planned kill lands on one of an invocation's first calls (AWS or GMI)

# The execution input of the release before the watch queue (commit ddbe364 added poll.queue_delay_seconds):
# every field it wrote; anything else is dropped.
PREVIOUS_RELEASE_FIELDS: dict[str, Any] = {
    **dict.fromkeys(
        ("job_id", "attempt", "request_id", "model", "time_class", "submitted_at", "deadline_at", "gmi_status")
    ),
    "expectation": None,
    "poll": (
        "outcome",
        "next_wait_seconds",
        "poll_count",
        "consecutive_errors",
        "gmi_status",
        "failure",
        "failed_stores",
    ),
}


def previous_release_input(text: str) -> str:
    """The execution input as the previous release's submit function would have written it."""
    given = json.loads(text)
    kept = {name: value for name, value in given.items() if name in PREVIOUS_RELEASE_FIELDS}
    if isinstance(kept.get("poll"), dict):
        kept["poll"] = {name: value for name, value in kept["poll"].items() if name in PREVIOUS_RELEASE_FIELDS["poll"]}
    return json.dumps(kept)


@dataclass(frozen=True)
class FaultRule:
    share: float = 0.0  # of the events it could hit
    channels: tuple[str, ...] = ()  # parts of channel names it applies to; empty: every channel
    first_within: int = 0  # > 0: one of the first N events is hit whatever the share (a small run fires it too)
    limit: int | None = None  # hit at most this many events
    same_batch: bool | None = None  # duplicate_delivery: where the copy goes; None: drawn by the seed
    # killed_at_timeout: the call it lands on (k; "after <operation>": the call after the invocation's first
    # call of that botocore operation, e.g. "after SendMessage", or "after HTTP POST"; "before <operation> #n":
    # the invocation's n-th call of it, e.g. "before SendTaskHeartbeat #2"); None: k drawn by the seed
    kill_at_call: int | str | None = None


# The soak's mix (all on): shares of received messages, pumped batches, StartExecutions.
SOAK_RULES: dict[str, FaultRule] = {
    DUPLICATE: FaultRule(0.05, first_within=20),
    # Watch batches only: a kill at a seeded point of a submit batch lands before or after its POST depending on
    # which messages the batch holds (timing), so the run's outcome would too; tests/scenarios/test_s27 kills a
    # submit batch right after its POST instead.
    KILLED: FaultRule(0.01, channels=("Watcher",), first_within=5),
    THROTTLED: FaultRule(0.01, first_within=20),
    PREVIOUS_INPUT: FaultRule(0.05, first_within=5),
}


def _unit(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class InvocationKilled(BaseException):
    """Lambda ended the invocation at its timeout (raised from the call hooks of a killable invocation)."""


@dataclass
class _Guard:
    deadline: float
    kill_at_call: int | str | None
    enforce_deadline: bool
    calls: int = 0
    armed: bool = False  # the operation a kill "after <operation>" waits for was called
    seen: Counter[str] = field(default_factory=Counter)  # calls of each operation so far


_current = threading.local()


def _count_call(operation: str) -> None:
    guard: _Guard | None = getattr(_current, "guard", None)
    if guard is None:
        return
    guard.calls += 1
    guard.seen[operation] += 1
    at = guard.kill_at_call
    if (
        guard.armed
        or (isinstance(at, int) and guard.calls >= at)
        or at == f"before {operation} #{guard.seen[operation]}"
    ):
        raise InvocationKilled(f"killed before call {guard.calls} ({operation})")
    guard.armed = at == f"after {operation}"
    if guard.enforce_deadline and time.monotonic() > guard.deadline:
        raise InvocationKilled("ran past its timeout")


@contextmanager
def killable(deadline: float, kill_at_call: int | str | None, enforce_deadline: bool) -> Iterator[None]:
    """While open, this thread's AWS and GMI calls count towards the planned kill (and the deadline)."""
    _current.guard = _Guard(deadline, kill_at_call, enforce_deadline)
    try:
        yield
    finally:
        _current.guard = None


def _counted(original: Callable[..., Any], operation: Callable[..., str]) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count_call(operation(*args))
        return original(self, *args, **kwargs)

    return call


@dataclass
class AwsFaults:
    rules: Mapping[str, FaultRule] = field(default_factory=dict)
    seed: int = 0
    planned: Counter[str] = field(default_factory=Counter)
    fired: Counter[str] = field(default_factory=Counter)
    _events: Counter[tuple[str, str]] = field(default_factory=Counter)
    _by_execution: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def seeded(cls, seed: int, rules: Mapping[str, FaultRule] | None = None) -> AwsFaults:
        return cls(dict(SOAK_RULES if rules is None else rules), seed)

    def on(self, fault: str) -> bool:
        """A rule for it is given (killed_at_timeout: then an invocation past its timeout is killed, too)."""
        return fault in self.rules

    def draw(self, fault: str, channel: str) -> bool:
        """Is the next event of `fault` on `channel` hit? (Counted as planned when it is.)"""
        rule = self.rules.get(fault)
        if rule is None or (rule.channels and not any(part in channel for part in rule.channels)):
            return False
        with self._lock:
            # Counted per channel: how one queue's events interleave with another's does not shift the plan.
            self._events[(fault, channel)] += 1
            n = self._events[(fault, channel)]
            if rule.limit is not None and self.planned[fault] >= rule.limit:
                return False
            first = 1 + int(_unit(self.seed, fault, channel, "first") * rule.first_within) if rule.first_within else 0
            hit = n == first or _unit(self.seed, fault, channel, n) < rule.share
            if hit:
                self.planned[fault] += 1
            return hit

    def fire(self, fault: str) -> None:
        with self._lock:
            self.fired[fault] += 1

    def kill_point(self, channel: str) -> int | str | None:
        """The call of this invocation at which it is killed, if a kill is planned for it."""
        if not self.draw(KILLED, channel):
            return None
        fixed = self.rules[KILLED].kill_at_call
        if fixed is not None:
            return fixed
        with self._lock:
            return 1 + int(_unit(self.seed, KILLED, "call", self.planned[KILLED]) * KILL_WITHIN_CALLS)

    def same_batch(self) -> bool:
        """Where the planned duplicate goes: into the same batch, or (its delete withheld) a later one."""
        fixed = self.rules[DUPLICATE].same_batch
        if fixed is not None:
            return fixed
        with self._lock:
            return _unit(self.seed, DUPLICATE, "where", self.planned[DUPLICATE]) < 0.5

    def old_input_for(self, execution_name: str) -> bool:
        """Does this execution start with the previous release's input? (The first StartExecution of a name
        decides and counts; a restart of the same name gets the same answer.)"""
        with self._lock:
            known = self._by_execution.get(execution_name)
        if known is None:
            known = self.draw(PREVIOUS_INPUT, EXECUTIONS)
            with self._lock:
                self._by_execution[execution_name] = known
            if known:
                self.fire(PREVIOUS_INPUT)
        return known

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Count every AWS and GMI call (for kills) and rewrite planned StartExecution inputs, while open."""
        faults = self
        real_start = StepFunctionsParserBackend.start_execution

        def start_execution(
            self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None, *rest: Any
        ) -> Any:
            if execution_input and name and faults.old_input_for(str(name)):
                execution_input = previous_release_input(str(execution_input))
            return real_start(self, state_machine_arn, name, execution_input, *rest)

        with ExitStack() as patches:
            api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private: botocore's one path of every call
            by_name = _counted(api_call, lambda operation, *_: str(operation))
            by_method = _counted(Session.send, lambda request, *_: f"HTTP {request.method}")
            patches.enter_context(mock.patch.object(BaseClient, "_make_api_call", by_name))
            patches.enter_context(mock.patch.object(Session, "send", by_method))
            if self.on(PREVIOUS_INPUT):
                patches.enter_context(mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution))
            yield

    def table(self) -> list[tuple[str, int, int]]:
        return [(name, self.planned[name], self.fired[name]) for name in AWS_FAULTS if self.on(name)]
