"""Benchmark 4: a burst of uploads through the local pipeline (moto + in-process handlers, i2v_local.stack),
with the GMI simulator at zero generation time. Also the source of the per-job operation counts of benchmark 5.

Every AWS request the handlers make is counted with a botocore `before-call` hook on their own clients
(i2v.adapters.aws.client), invocation durations with the local stack's invoke hooks.
"""

from __future__ import annotations

import collections
import io
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from benchmarks.report import Benchmark, Row, Run, mark, md_table

HANDLER_SERVICES = ("s3", "dynamodb", "events", "stepfunctions", "sqs")


@dataclass
class BurstResult:
    images: int
    wall_seconds: float
    succeeded: int
    videos_stored: int
    lost: int
    max_concurrent_submits: int
    submit_cap: int | None
    invocations: dict[str, int]
    durations_ms: dict[str, float]  # median per function
    memory_mb: dict[str, int]
    calls: dict[str, int]  # "service:Operation" -> count, handlers only
    submit_batches: int
    log_bytes: int  # what the handlers wrote to stdout (Powertools JSON logs + EMF metrics)
    job_item_bytes: int
    execution_input_bytes: int
    history_events: int  # of all executions, from moto's execution history
    errors: list[str] = field(default_factory=list)

    @property
    def jobs_per_second(self) -> float:
        return self.succeeded / self.wall_seconds if self.wall_seconds else 0.0


class _CountingStdout(io.TextIOBase):
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.count = 0

    def write(self, text: str) -> int:
        self.count += len(text.encode())
        return len(text)  # swallowed: 200 jobs of JSON logs would drown the summary

    def flush(self) -> None:
        return None


@contextmanager
def _captured_stdout() -> Iterator[_CountingStdout]:
    counting = _CountingStdout(sys.stdout)
    saved = sys.stdout
    sys.stdout = counting
    try:
        yield counting
    finally:
        sys.stdout = saved


def _function_key(logical_id: str) -> str:
    """The function's short name (submit, watch, poll, complete, fail) from its logical id."""
    for name in ("Submit", "Watch", "Poll", "Complete", "Fail"):
        if name in logical_id:
            return name.lower()
    return logical_id


def run(images: int = 200, timeout: float = 600.0) -> BurstResult:
    import logging

    from i2v.adapters.aws import client as handler_client
    from i2v_infra.synth import synthesize_template
    from i2v_local.simulator import GmiSimulator, Timing
    from i2v_local.stack import LocalSettings, LocalStack
    from i2v_local.stack.driver import png_bytes

    logging.getLogger("i2v").setLevel(logging.WARNING)
    template = synthesize_template()
    calls: collections.Counter[str] = collections.Counter()
    durations: dict[str, list[float]] = collections.defaultdict(list)
    in_flight = {"submit": 0, "max": 0}
    lock = threading.Lock()
    local = threading.local()

    def count_call(model: Any, **_: Any) -> None:
        with lock:
            calls[f"{model.service_model.service_name}:{model.name}"] += 1

    with GmiSimulator(timing=Timing.zero()) as sim, _captured_stdout() as stdout:
        stack = LocalStack(template, LocalSettings.for_simulator(sim), mode="mock").start()
        try:
            for service in HANDLER_SERVICES:
                handler_client(service).meta.events.register("before-call", count_call)
            specs = {spec.name: spec for spec in stack.functions.values()}

            def before(spec: Any, event: Any) -> None:
                local.started = time.perf_counter()
                if _function_key(spec.logical_id) == "submit":
                    with lock:
                        in_flight["submit"] += 1
                        in_flight["max"] = max(in_flight["max"], in_flight["submit"])

            def after(spec: Any, event: Any, result: Any) -> None:
                key = _function_key(spec.logical_id)
                durations[key].append((time.perf_counter() - local.started) * 1000)
                if key == "submit":
                    with lock:
                        in_flight["submit"] -= 1

            stack.router.before_invoke.append(before)
            stack.router.after_invoke.append(after)
            s3 = stack.client("s3")
            bucket = stack.outputs["InputBucketName"]
            bodies = [png_bytes(shade=i * 31) for i in range(8)]
            started = time.perf_counter()
            for i in range(images):
                s3.put_object(Bucket=bucket, Key=f"incoming/burst/{i:04d}.png", Body=bodies[i % len(bodies)])
            stack.run_until_idle(timeout=timeout, interval=0.1)
            wall = time.perf_counter() - started
            handler_calls = collections.Counter(calls)  # before our own read-back below adds to it
            result = _collect(stack, images, wall, handler_calls, durations, in_flight["max"], specs)
            result.log_bytes = stdout.count
            return result
        finally:
            stack.stop()


def _collect(
    stack: Any,
    images: int,
    wall: float,
    calls: collections.Counter[str],
    durations: dict[str, list[float]],
    max_submits: int,
    specs: dict[str, Any],
) -> BurstResult:
    from i2v.adapters.repository import JobRepository
    from i2v.domain.jobs import JobStatus

    repo = JobRepository(stack.outputs["JobsTableName"])
    succeeded = repo.by_status(JobStatus.SUCCEEDED, limit=images + 10)
    s3 = stack.client("s3")
    stored = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.outputs["OutputBucketName"]):
        # Videos only: the previews function's poster frame and animation sit beside each one.
        stored += sum(1 for o in page.get("Contents", []) if not o["Key"].endswith((".frame.jpg", ".preview.webp")))
    sfn = stack.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=stack.outputs["StateMachineArn"])["executions"]
    history = sum(len(sfn.get_execution_history(executionArn=e["executionArn"])["events"]) for e in executions)
    sample_input = sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"] if executions else "{}"
    item = (
        stack.client("dynamodb").get_item(
            TableName=stack.outputs["JobsTableName"],
            Key={"pk": {"S": f"JOB#{succeeded[0].job_id}"}, "sk": {"S": "JOB"}},
        )["Item"]
        if succeeded
        else {}
    )
    submit_name = stack.function("Submit").name
    submit_source = next((p.source for p in stack.pumps if p.source.function_name == submit_name), None)
    errors = [e for pump in stack.pumps for e in pump.stats.errors]
    invocations: collections.Counter[str] = collections.Counter(
        _function_key(specs[name].logical_id) for name, _, _ in stack.router.invocations
    )
    return BurstResult(
        images=images,
        wall_seconds=wall,
        succeeded=len(succeeded),
        videos_stored=stored,
        lost=images - min(len(succeeded), stored),
        max_concurrent_submits=max_submits,
        submit_cap=submit_source.max_concurrency if submit_source else None,
        invocations=dict(invocations),
        durations_ms={k: statistics.median(v) for k, v in durations.items()},
        memory_mb={_function_key(s.logical_id): s.memory_mb for s in specs.values()},
        calls=dict(calls),
        submit_batches=sum(p.stats.batches for p in stack.pumps),
        log_bytes=0,
        job_item_bytes=_item_size(item),
        execution_input_bytes=len(sample_input.encode()),
        history_events=history,
        errors=errors,
    )


def _item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (approximated by their JSON text)."""
    import json

    return sum(len(name.encode()) + len(json.dumps(value).encode()) for name, value in item.items())


# ---- the benchmark: summary rows, section --------------------------------------------------------------------


def measure(bench: Run) -> BurstResult:
    images = 6 if bench.quick else 200
    bench.log(f"burst: {images} images through the local stack")
    return run(images, timeout=120 if bench.quick else 600)


def rows(bench: Run) -> list[Row]:
    r = bench.result("burst", BurstResult)
    if r is None:
        return []
    return [
        Row(f"{r.images} images: wall time (s)", f"{r.wall_seconds:.1f}"),
        Row("jobs per second", f"{r.jobs_per_second:.2f}"),
        Row(
            "max concurrent submissions",
            str(r.max_concurrent_submits),
            f"cap {r.submit_cap}",
            "-",
            "<= cap",
            mark(r.submit_cap is None or r.max_concurrent_submits <= r.submit_cap),
        ),
        Row("jobs lost", str(r.lost), target="0", met=mark(r.lost == 0)),
    ]


def section(bench: Run) -> list[str]:
    r = bench.result("burst", BurstResult)
    if r is None:
        return []
    calls = ", ".join(f"{k} {v / max(1, r.succeeded):.2f}" for k, v in sorted(r.calls.items()))
    return [
        f"{r.images} PNGs put into the input bucket at once; the local stack (`i2v_local.stack.LocalStack`, mode "
        '"mock": the synthesized template\'s resources in moto, the real handlers in-process, the real state '
        "machine in moto's interpreter, the SQS event source run by the stack's pump) with the GMI simulator at "
        "zero generation time and the local fast poll policy. Wall time from the first PUT until the stack is idle.",
        "",
        md_table(
            ["images", "wall (s)", "jobs/s", "succeeded", "videos stored", "lost", "max concurrent submits", "cap"],
            [
                [
                    str(r.images),
                    f"{r.wall_seconds:.1f}",
                    f"{r.jobs_per_second:.2f}",
                    str(r.succeeded),
                    str(r.videos_stored),
                    str(r.lost),
                    str(r.max_concurrent_submits),
                    str(r.submit_cap),
                ]
            ],
        ),
        "",
        "Caveat: the local stack runs one warm instance per function (a lock per function), so submissions never "
        "overlap locally; the cap (`submit_concurrency`, the event source's MaximumConcurrency) is what bounds them "
        "in AWS. The throughput is that of one process on this machine, not of Lambda.",
        "",
        f"Invocations: {r.invocations}; submit batches: {r.submit_batches}; median local duration (ms): "
        + ", ".join(f"{k} {v:.0f}" for k, v in r.durations_ms.items())
        + f". AWS requests by the handlers per job: {calls}.",
        "",
    ]


def readme(bench: Run) -> list[str]:
    r = bench.result("burst", BurstResult)
    if r is None:
        return []
    return [
        f"- **Bursts**: {r.images} images dropped at once, {r.lost} lost, {r.jobs_per_second:.1f} jobs/s through "
        "the local stack.",
    ]


BENCHMARK = Benchmark("burst", "burst", "Burst", measure, rows, section, readme=readme)
