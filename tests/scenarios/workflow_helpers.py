"""Helpers for the workflow-side fault scenarios (13-22): hooks on the local stack, traps, history counts.

Imported as `scenarios.workflow_helpers` (tests/ is on sys.path through tests/conftest.py).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from i2v.adapters.aws import client
from i2v.config import PollingEnv
from i2v.domain.polling import Expectation, PollPolicy, next_wait_seconds, wait_before_deadline, wait_inline
from i2v_events.v1 import DetailType
from i2v_local.simulator import GmiSimulator, LogEntry
from i2v_local.stack import FunctionSpec, Invocation, LocalStack

ROOT = Path(__file__).resolve().parents[2]
SUCCEEDED = DetailType.SUCCEEDED
FAILED = DetailType.FAILED
# AWS Step Functions standard workflows stop an execution at this many history events.
HISTORY_LIMIT = 25_000
# Events AWS records for one turn of the poll loop: Wait (entered, exited), Poll (entered, scheduled,
# started, succeeded, exited), Route (entered, exited).
AWS_EVENTS_PER_POLL = 9


# ---- the execution input submit writes ------------------------------------------------------------------
def shorten_deadline(seconds: float) -> None:
    """Rewrite the execution input submit sends: the job's deadline becomes `seconds` after submission.

    `seconds` may be a fraction, and it applies to this test's jobs only, whatever JOB_DEADLINE_SECONDS
    (whole seconds, 1 to 21600, one value per stack) says; the poll function only reads `deadline_at` from
    the execution input, so the code path is the same. Registered on the handlers' own cached client (the
    stack forgets it when it stops).
    """

    def rewrite(params: dict[str, Any], **_: Any) -> None:
        state = json.loads(params["input"])
        state["deadline_at"] = state["submitted_at"] + seconds
        params["input"] = json.dumps(state)

    client("stepfunctions").meta.events.register("before-parameter-build.sfn.StartExecution", rewrite)


@contextmanager
def fast_state_machine_retries(factor: float = 0.05) -> Iterator[None]:
    """Scale the sleeps of moto's Step Functions Retry (interval x backoff x jitter) by `factor`.

    Only the waiting is shortened; the retry policy (errors, attempts) is the synthesized one.
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    real = retrier_decl.time
    retrier_decl.time = SimpleNamespace(sleep=lambda seconds: real.sleep(seconds * factor))  # type: ignore[assignment]
    try:
        yield
    finally:
        retrier_decl.time = real


# ---- invocation hooks -----------------------------------------------------------------------------------
def on_calls(
    stack: LocalStack,
    logical: str,
    before: Callable[[Any], None] | None = None,
    after: Callable[[Any, Invocation], None] | None = None,
    times: int = 1,
) -> None:
    """Run hooks around the first `times` invocations of one function (e.g. "Complete")."""
    seen = {"before": 0, "after": 0}

    def before_hook(spec: FunctionSpec, event: Any) -> None:
        if logical in spec.logical_id and seen["before"] < times:
            seen["before"] += 1
            if before:
                before(event)

    def after_hook(spec: FunctionSpec, event: Any, result: Invocation) -> None:
        if logical in spec.logical_id and seen["after"] < times:
            seen["after"] += 1
            if after:
                after(event, result)

    stack.router.before_invoke.append(before_hook)
    stack.router.after_invoke.append(after_hook)


def results_of(stack: LocalStack, logical: str) -> list[Invocation]:
    return [result for _, result in stack.router.calls(logical)]


# ---- what the simulator saw -----------------------------------------------------------------------------
def video_requests(sim: GmiSimulator, request_id: str | None = None) -> list[LogEntry]:
    """Requests for video bytes (the signed URLs), optionally of one request id."""
    return [
        entry
        for entry in sim.requests_log
        if entry.path.startswith("/videos/") and (request_id is None or entry.path == f"/videos/{request_id}.mp4")
    ]


class ConnectionTrap:
    """A TCP listener on another loopback address that counts every connection made to it.

    127.0.0.2 is not on the local stack's video allow-list (127.0.0.1, localhost): a URL pointing here
    stands for a foreign or internal host, and `connections` proves whether anything was fetched from it.
    """

    def __init__(self, host: str = "127.0.0.2") -> None:
        self._server = socket.create_server((host, 0))
        self._server.settimeout(0.2)
        self.host = host
        self.port = int(self._server.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="connection-trap", daemon=True)

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def __enter__(self) -> ConnectionTrap:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()


# ---- S3 ---------------------------------------------------------------------------------------------------
@dataclass
class S3Calls:
    """Counts of S3 operations made by the handlers' own client (upload_fileobj uses it)."""

    counts: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, operation: str) -> int:
        return self.counts.get(operation, 0)


def count_s3_calls(operations: tuple[str, ...] = ()) -> S3Calls:
    calls = S3Calls()
    names = operations or (
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
    )

    def counter(operation: str) -> Callable[..., None]:
        def count(**_: Any) -> None:
            calls.counts[operation] = calls.counts.get(operation, 0) + 1

        return count

    for name in names:
        client("s3").meta.events.register(f"after-call.s3.{name}", counter(name), unique_id=f"count-{name}")
    return calls


def open_multipart_uploads(stack: LocalStack, bucket: str) -> list[dict[str, Any]]:
    return list(stack.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def objects_under(stack: LocalStack, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    return list(stack.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def videos_under(stack: LocalStack, bucket: str) -> list[dict[str, Any]]:
    """The stored videos, without the poster frame and animated preview the previews function puts beside each."""
    return [o for o in objects_under(stack, bucket) if not o["Key"].endswith((".frame.jpg", ".preview.webp"))]


# ---- Step Functions history -----------------------------------------------------------------------------
def full_history(stack: LocalStack, execution_arn: str) -> list[dict[str, Any]]:
    pages = stack.client("stepfunctions").get_paginator("get_execution_history")
    return [event for page in pages.paginate(executionArn=execution_arn) for event in page["events"]]


def default_deadline_seconds() -> int:
    return int(PollingEnv.model_fields["job_deadline_seconds"].default)


def poll_loop_turns(
    deadline_seconds: float,
    policy: PollPolicy,
    expectation: Expectation | None = None,
) -> int:
    """Turns of Wait -> Poll -> Route for a job that never finishes, replaying the real policy functions.

    The first wait is what submit writes (next_wait_seconds at 0 s); every poll then returns
    wait_before_deadline(next_wait_seconds(elapsed)); the poll at or after the deadline ends the loop.
    """
    elapsed = float(next_wait_seconds(0, policy, expectation))
    turns = 1
    while elapsed < deadline_seconds:
        wait = wait_before_deadline(next_wait_seconds(elapsed, policy, expectation), elapsed, deadline_seconds, policy)
        elapsed += wait
        turns += 1
    return turns


def state_machine_rounds(
    deadline_seconds: float,
    policy: PollPolicy,
    expectation: Expectation | None = None,
) -> int:
    """Rounds of Wait -> Poll -> Route for a job that never finishes, replaying the real policy functions:
    the poll invocation sleeps short waits inline (wait_inline) and hands longer ones to the Wait state."""
    elapsed = float(next_wait_seconds(0, policy, expectation))
    rounds = 1
    spent = 0.0
    while elapsed < deadline_seconds:
        wait = wait_before_deadline(next_wait_seconds(elapsed, policy, expectation), elapsed, deadline_seconds, policy)
        if wait_inline(wait, spent, policy):
            spent += wait
        else:
            spent = 0.0
            rounds += 1
        elapsed += wait
    return rounds


def events_per_round(history: list[dict[str, Any]]) -> int:
    """History events one round of the loop adds (measured between two Wait states; AWS's count at least)."""
    waits = [i for i, event in enumerate(history) if event["type"] == "WaitStateEntered"]
    measured = (waits[-1] - waits[0]) // (len(waits) - 1) if len(waits) >= 2 else len(history)
    return max(AWS_EVENTS_PER_POLL, measured)


def worst_case_turns(deadline_seconds: float, policy: PollPolicy) -> int:
    """No wait is ever shorter than min_wait_seconds, whatever the policy learned."""
    return math.ceil(deadline_seconds / policy.min_wait_seconds) + 1


# ---- a Lambda invocation in its own process ---------------------------------------------------------------
_WORKER = r"""
import json, sys, time

def status(field):
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)

event = json.loads(sys.stdin.read())
from i2v.adapters.aws import client
from i2v_local.stack.lambdas import FakeLambdaContext, error_payload
import i2v.handlers.complete as module  # cold start: validates the environment, builds the service

# Warm up what a warm function already holds: its clients and the API key.
for name in ("s3", "dynamodb", "events"):
    client(name)
module.service().gmi._api_key()
import threading
try:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")  # reset VmHWM to the current RSS (Linux >= 4.0)
    peak_reset = True
except OSError:
    peak_reset = False  # VmHWM would still hold the import-time peak: sample RSS instead
before = status("VmRSS")
sampled = [before]
done = threading.Event()
def sample():
    while not done.wait(0.005):
        sampled.append(status("VmRSS"))
sampler = threading.Thread(target=sample, daemon=True)
if not peak_reset:
    sampler.start()
context = FakeLambdaContext("complete", 1024, "arn:aws:lambda:local:0:function:complete", "local", time.monotonic() + 900)
try:
    payload, error = module.handler(event, context), False
except Exception as exc:
    payload, error = error_payload(exc), True
done.set()
peak = status("VmHWM") if peak_reset else max(sampled)
result = {"payload": payload, "error": error, "rss_before": before, "rss_peak": peak, "peak_from": "VmHWM" if peak_reset else "sampled"}
print("@@RESULT@@" + json.dumps(result, default=str))
"""


@dataclass
class ProcessRun:
    payload: Any
    error: bool
    rss_before: int
    rss_peak: int
    peak_from: str = "VmHWM"  # "sampled" (every 5 ms) where /proc/self/clear_refs cannot reset VmHWM

    @property
    def rss_growth(self) -> int:
        return self.rss_peak - self.rss_before


def run_complete_in_subprocess(stack: LocalStack, event: dict[str, Any]) -> ProcessRun:
    """The complete handler, cold-started in a fresh process against the stack (moto over HTTP)."""
    endpoint = stack.endpoint_url or stack.data_endpoint_url
    assert endpoint, "the stack serves no HTTP endpoint"
    paths = os.pathsep.join(str(ROOT / part) for part in ("functions", "local"))
    env = {
        **os.environ,
        **stack.function_environment(),
        "AWS_ENDPOINT_URL": endpoint,
        "PYTHONPATH": paths,
    }
    done = subprocess.run(
        [sys.executable, "-c", _WORKER],
        input=json.dumps(event),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith("@@RESULT@@")), None)
    assert line is not None, f"worker failed ({done.returncode}): {done.stderr[-3000:]}"
    found = json.loads(line[len("@@RESULT@@") :])
    return ProcessRun(
        found["payload"], found["error"], int(found["rss_before"]), int(found["rss_peak"]), found["peak_from"]
    )


def route_to_subprocess(stack: LocalStack, logical: str, runs: list[ProcessRun]) -> None:
    """Invocations of one function (by the real state machine) run in a fresh process each."""
    original = stack.router.invoke

    def invoke(function: FunctionSpec | str, event: Any) -> Invocation:
        spec = function if isinstance(function, FunctionSpec) else stack.router.find(function)
        if spec is None or logical not in spec.logical_id:
            return original(function, event)
        run = run_complete_in_subprocess(stack, event)
        runs.append(run)
        result = Invocation(run.payload, run.error)
        with stack.router._record_lock:
            stack.router.invocations.append((spec.name, event, result))
        return result

    stack.router.invoke = invoke  # type: ignore[method-assign]


def wait_until(predicate: Callable[[], bool], timeout: float, stack: LocalStack) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        stack.pump()
        time.sleep(0.1)
