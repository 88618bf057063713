"""Chaos soak: N uploads through the local pipeline under seeded GMI faults, AWS faults and duplicate S3 events.

    python -m i2v_local.soak --uploads 500 --seed 7      # `make soak`

The real synthesized template in moto (the local stack, in-process handlers, moto's Step Functions
interpreter) against the GMI simulator. The seed fixes the whole plan before anything runs: which uploads
are bad images, which S3 notifications are re-sent, and which upload gets which fault (FAULT_MIX: a share
of the good uploads each, at least one each). A fault travels as a `[sim:...]` marker in the upload's prompt,
so it fires on that upload's submission, status check or download, whatever the timing of the run: the
same seed fires the same faults. Faults: 5xx and 429 on submissions and status checks, POSTs GMI answers
with 500 or 503 after creating the job, POSTs that time out after acceptance (GMI_TIMEOUT_SECONDS=1), video
downloads cut short once (retried by the state machine). AWS faults (i2v_local.stack.aws_faults, all on,
seeded by the same seed): SQS messages delivered twice, watch batches killed at the function's timeout, throttled
receives, executions started with the previous release's input. Once the pipeline is idle the clocks (moto's SQS
clock, the submit and watch functions', the GMI simulator's: reconciliation matches GMI's created_at against ours)
are moved on until no message is delayed or in flight, so every ambiguous job's reconcile and every killed batch's
redelivery happens. Prints a table; exits non-zero unless
every invariant holds:

- no job lost: every upload has a record;
- every job ended, with a reason: a terminal status (or submit_ambiguous, which waits for an operator) and a
  failure category (or an output for succeeded);
- the faults asked for fired, each exactly as often as planned;
- no image paid twice, ambiguous jobs included, and none after GMI answered 503 having created the job
  (found in GMI's request list before a second POST: README, Guarantees);
- every ending announced: each job has a Succeeded / Failed event of its final status;
- the counts by status add up to N;
- each AWS fault planned and fired (at least once each);
- GMI jobs created == workflow executions (every job GMI made is watched, reconciled ones included);
- no forked chain of looks (i2v_local.soak_checks): at most one live chain per job;
- no job looked at more often than the poll policy alone would (plus the GETs its faults and Completes add)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from i2v.domain.polling import PollPolicy
from i2v.domain.record import JobRecord
from i2v_events.v1 import DetailType
from i2v_local.simulator import FaultPlan, GmiSimulator, Timing
from i2v_local.soak_checks import (
    LookCount,
    Start,
    WatchLedger,
    explained,
    look_counts,
    sample,
    source_key,
    status_gets,
)
from i2v_local.soak_plan import FAULT_MIX, SoakConfig, SoakPlan, plan_uploads
from i2v_local.soak_report import Invariant, MemoryWatch, SoakReport, aws_invariants, within_policy
from i2v_local.stack import FunctionSpec, Invocation, LocalSettings, LocalStack
from i2v_local.stack.aws_faults import AwsFaults
from i2v_local.stack.driver import PipelineDriver
from i2v_local.timewarp import functions_warped

__all__ = ["FAULT_MIX", "SoakConfig", "SoakPlan", "SoakReport", "plan_uploads", "run_soak"]

ENDED = frozenset({"succeeded", "failed", "timed_out", "rejected", "submit_ambiguous"})
WARP_STEP_SECONDS = 150.0  # past the reconcile's settle window (120 s) and the submit function's timeout (100 s)
WARP_STEPS = 12
WARP_AFTER_SECONDS = 3.0  # no job ended for this long and something is delayed or invisible: move the clocks on
GET_FAULTS = ("get_500", "get_503", "get_429")  # each costs its job one more look


@dataclass
class _Upload:
    index: int
    key: str
    job_id: str
    bad: bool


class _Soak:
    def __init__(self, config: SoakConfig, stack: LocalStack, sim: GmiSimulator) -> None:
        self.config = config
        self.stack = stack
        self.sim = sim
        self.pipeline = PipelineDriver(stack)
        self.sqs = stack.client("sqs")
        self.queue_url = stack.outputs["SubmitQueueUrl"]
        self.uploads: list[_Upload] = []
        self.bodies: dict[str, str] = {}  # key -> the first S3 notification body seen by submit
        self.duplicate_keys: set[str] = set()
        self.fault_plan: dict[str, str] = {}  # upload key -> fault spec
        self.immediate: list[str] = []
        self.late: list[str] = []
        self.duplicates_sent = self.truncations_healed = 0
        self.memory = MemoryWatch()  # from here: the stack is up
        self.tap = stack.tap_events()
        self.ledger = WatchLedger()
        self.warp = 0.0  # seconds the clocks are moved ahead (the settle phase)
        self.warps: list[tuple[float, float]] = [(0.0, 0.0)]  # (real time, offset from then on)
        stack.router.before_invoke.append(self._capture_notification)
        stack.router.before_invoke.append(self._observe_watch)
        stack.router.after_invoke.append(self._heal_truncation)

    # ---- hooks (run inside invocations) -----------------------------------------------------------------
    def _capture_notification(self, spec: FunctionSpec, event: Any) -> None:
        if "Submit" not in spec.logical_id:
            return
        for record in event.get("Records", []):
            body = str(record.get("body", ""))
            try:
                keys = [unquote(r["s3"]["object"]["key"]) for r in json.loads(body).get("Records", [])]
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            for key in keys:
                if key in self.duplicate_keys and key not in self.bodies:
                    self.bodies[key] = body
                    # Half re-sent while the job is in flight, half once everything has settled.
                    (self.immediate if len(self.bodies) % 2 else self.late).append(key)

    def _observe_watch(self, spec: FunctionSpec, event: Any) -> None:
        if "Watcher" in spec.logical_id and isinstance(event, dict):
            for record in event.get("Records", []):
                self.ledger.observe(record)

    def _heal_truncation(self, spec: FunctionSpec, event: Any, result: Invocation) -> None:
        if "Complete" not in spec.logical_id or not result.error or not isinstance(event, dict):
            return
        try:
            job = self.sim.job(str(event.get("request_id")))
        except KeyError:
            return
        path = f"/videos/{job.request_id}.mp4"
        fired = any(e.path == path and e.fault == "video_truncated" for e in self.sim.requests_log)
        # Only once the cut actually happened (a failed status check can fail an attempt before the download).
        if fired and job.faults.pop("video_truncated", None) is not None:
            self.truncations_healed += 1

    # ---- driving ------------------------------------------------------------------------------------------
    def plan(self) -> list[tuple[str, bytes, bool]]:
        planned = plan_uploads(self.config)
        self.fault_plan.update(planned.faults)
        self.duplicate_keys.update(planned.duplicates)
        return planned.uploads

    def _upload(self, key: str, body: bytes) -> str:
        fault = self.fault_plan.get(key)
        if fault is None:
            return self.pipeline.upload(key, body=body)
        # The marker makes the simulator fire this fault on this upload's submission / job, and nowhere else.
        return self.pipeline.upload(key, body=body, prompt=f"a soak upload [sim:{fault}]")

    def _resend(self, keys: list[str]) -> None:
        while keys:
            key = keys.pop()
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=self.bodies[key])
            self.duplicates_sent += 1

    def run(self) -> None:
        with functions_warped(lambda: self.warp):  # moto's SQS clock and the functions' clocks
            self._run()

    def _run(self) -> None:
        planned = self.plan()
        in_flight: dict[str, _Upload] = {}
        started = time.monotonic()
        last_progress = last_warp = started
        last_check = 0.0
        next_index = 0
        while next_index < len(planned) or in_flight:
            while next_index < len(planned) and len(in_flight) < self.config.max_in_flight:
                key, body, bad = planned[next_index]
                upload = _Upload(next_index, key, self._upload(key, body), bad)
                self.uploads.append(upload)
                in_flight[upload.job_id] = upload
                next_index += 1
            # The SQS event sources every turn; the execution watcher (it lists every execution, so its cost
            # grows with the run) and the records of the jobs in flight about once a second.
            for pump in self.stack.pumps:
                pump.pump()
            self._resend(self.immediate)
            now = time.monotonic()
            if now - last_check > 1.0:
                last_check = now
                if self.stack.watcher is not None:
                    self.stack.watcher.tick()
                for job_id in list(in_flight):
                    record = self.pipeline.repo.get(job_id)
                    if record is not None and record.status in ENDED:
                        del in_flight[job_id]
                        last_progress = now
            if now - started > self.config.timeout_seconds or now - last_progress > self.config.stall_seconds:
                break
            if min(now - last_progress, now - last_warp) > WARP_AFTER_SECONDS and self._waiting():
                last_warp = now  # every job in flight waits for a delayed or invisible message: move time on
                self._move_clocks()
            time.sleep(0.05)
        self._settle()
        self._resend(self.late)
        self._settle()
        # Until nothing is delayed or in flight: each ambiguous job's reconcile, each killed batch back after a timeout.
        for _ in range(WARP_STEPS):
            if not self._waiting():
                break
            self._move_clocks()
            self._settle()

    def _move_clocks(self) -> None:
        self.warp += WARP_STEP_SECONDS
        self.warps.append((time.time(), self.warp))

    def _waiting(self) -> bool:
        names = ["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"]
        queues = [pump.source.queue_url for pump in self.stack.pumps]
        attributes = [self.sqs.get_queue_attributes(QueueUrl=q, AttributeNames=names)["Attributes"] for q in queues]
        return bool(self.stack.running_executions()) or any(int(a[name]) for a in attributes for name in names)

    def _settle(self) -> None:
        try:
            self.stack.run_until_idle(timeout=self.config.stall_seconds, interval=0.5)
        except TimeoutError as stuck:
            print(f"soak: {stuck}", file=sys.stderr)

    # ---- judging ------------------------------------------------------------------------------------------
    def report(self, seconds: float) -> SoakReport:
        n = self.config.uploads
        records: dict[str, JobRecord | None] = {u.job_id: self.pipeline.repo.get(u.job_id) for u in self.uploads}
        found = {job_id: record for job_id, record in records.items() if record is not None}
        statuses = Counter(str(record.status) for record in found.values())
        categories = Counter(str(record.failure.category) for record in found.values() if record.failure is not None)
        invariants = [
            Invariant("uploads made", len(self.uploads) == n, f"{len(self.uploads)} of {n}"),
            Invariant("no job lost", len(found) == len(self.uploads), f"{len(self.uploads) - len(found)} lost"),
        ]

        unended = [job_id for job_id, record in found.items() if record.status not in ENDED]
        unexplained = [job_id for job_id, record in found.items() if not explained(record)]
        executions = self._executions()
        invariants.append(
            Invariant(
                "every job ended with a reason",
                not unended and not unexplained,
                f"{len(unended)} not ended {sample(unended, found, executions)}, {len(unexplained)} without a reason",
            )
        )

        created = Counter(source_key(job.payload) for job in self.sim.jobs.values())
        key_of = {u.job_id: u.key for u in self.uploads}
        paid_twice = sorted(key_of[job_id] for job_id in found if created[key_of[job_id]] > 1)
        invariants.append(
            Invariant(
                "no image paid twice (ambiguous jobs and 503s after GMI created the job included)",
                not paid_twice,
                f"{len(paid_twice)} paid twice {paid_twice[:5]}",
            )
        )

        fired = Counter(entry.fault for entry in self.sim.requests_log if entry.fault)
        planned = Counter(_fault_name(spec) for spec in self.fault_plan.values())
        invariants.append(
            Invariant(
                "the faults asked for fired as planned",
                all(fired[name] == count for name, count in planned.items()),
                ", ".join(f"{name} {fired[name]}/{count}" for name, count in sorted(planned.items())),
            )
        )

        announced = self._announcements()
        silent = [job_id for job_id, record in found.items() if record.status not in announced.get(job_id, set())]
        invariants.append(
            Invariant("every ending announced", not silent, f"{len(silent)} jobs without an event of their status")
        )
        invariants.append(
            Invariant("counts add up to N", sum(statuses.values()) == n, f"{sum(statuses.values())} of {n}")
        )
        invariants += [*self._aws_invariants(executions), self.memory.invariant(n)]
        counts = self._look_counts(found, executions)
        return SoakReport(
            config=self.config,
            seconds=seconds,
            statuses=statuses,
            categories=categories,
            faults_planned=planned,
            faults_fired=fired,
            fault_plan=dict(self.fault_plan),
            duplicates_sent=self.duplicates_sent,
            bad_images=sum(1 for u in self.uploads if u.bad),
            posts=self.sim.post_count,
            executions=len(executions),
            truncations_healed=self.truncations_healed,
            invariants=[*invariants, within_policy(counts)],
            aws_faults=self._aws_faults.table() if self._aws_faults is not None else [],
            forks=len(self.ledger.forks()),
            most_looks=max(counts, key=lambda c: (c.made, -c.policy), default=None),
            simulated_seconds=self.warp,
        )

    @property
    def _aws_faults(self) -> AwsFaults | None:
        return self.stack.settings.aws_faults

    def _aws_invariants(self, executions: list[dict[str, Any]]) -> list[Invariant]:
        table = self._aws_faults.table() if self._aws_faults is not None else []
        return aws_invariants(table, len(self.config.aws_faults), self.sim.post_count, len(executions), self.ledger)

    def _look_counts(self, found: Mapping[str, JobRecord], executions: list[dict[str, Any]]) -> list[LookCount]:
        """Each watched job's status GETs against what the policy alone would make for it."""
        policy = PollPolicy.model_validate_json(self.stack.function_environment()["POLL_POLICY"])
        sfn, starts = self.stack.client("stepfunctions"), {}
        for execution in sorted(executions, key=lambda e: str(e["name"])):
            job_id = str(execution["name"]).rsplit("-", 1)[0]
            if job_id not in starts:
                starts[job_id] = Start.of(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        job_of = {str(record.request_id): job_id for job_id, record in found.items() if record.request_id}
        gets = status_gets(self.sim.requests_log, job_of, self.warps)
        completes = Counter(str(event.get("job_id")) for event, _ in self.stack.router.calls("Complete"))
        key_of = {u.job_id: u.key for u in self.uploads}
        faulted = {
            job_id for job_id in starts if _fault_name(self.fault_plan.get(key_of.get(job_id, ""))) in GET_FAULTS
        }
        allowance = {job_id: completes[job_id] + (job_id in faulted) for job_id in starts}
        return look_counts(policy, starts, gets, allowance)

    def _executions(self) -> list[dict[str, Any]]:
        pages = self.stack.client("stepfunctions").get_paginator("list_executions")
        arn = self.pipeline.state_machine_arn
        return [e for page in pages.paginate(stateMachineArn=arn) for e in page["executions"]]

    def _announcements(self) -> dict[str, set[str]]:
        seen: dict[str, set[str]] = {}
        for event in self.tap.drain():
            detail = event.get("detail") or {}
            if event.get("detail-type") in (DetailType.SUCCEEDED, DetailType.FAILED):
                seen.setdefault(str(detail.get("job_id")), set()).add(str(detail.get("status")))
        return seen


def _fault_name(spec: str | None) -> str:
    return spec.split()[0] if spec else ""


def run_soak(
    config: SoakConfig,
    template: Mapping[str, Any] | None = None,
    observe: Callable[[LocalStack], AbstractContextManager[object]] | None = None,
) -> SoakReport:
    """Run the soak; `observe(stack)` wraps the run while the stack is up (tests scan it for leaks)."""
    if template is None:
        from i2v_infra.synth import synthesize_template

        template = synthesize_template()
    # No random faults in the simulator: every fault is planned per upload (see plan()).
    timing = Timing.fixed(*config.gmi_seconds)
    with GmiSimulator(timing=timing, faults=FaultPlan(), video_size_bytes=config.video_bytes) as sim:
        aws_faults = AwsFaults.seeded(config.seed, config.aws_faults) if config.aws_faults else None
        settings = LocalSettings.for_simulator(sim, gmi_timeout_seconds=1, aws_faults=aws_faults)
        with LocalStack(template, settings) as stack, (observe or _unobserved)(stack):
            soak = _Soak(config, stack, sim)
            started = time.monotonic()
            soak.run()
            return soak.report(time.monotonic() - started)


@contextlib.contextmanager
def _unobserved(stack: LocalStack) -> Iterator[None]:
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i2v_local.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-flight", type=int, default=40, help="uploads in flight at once")
    parser.add_argument("--no-aws-faults", action="store_true", help="AWS behaves (GMI faults only)")
    parser.add_argument("--verbose", action="store_true", help="keep the functions' logs and metrics on stdout")
    args = parser.parse_args(argv)
    config = SoakConfig(uploads=args.uploads, seed=args.seed, max_in_flight=args.in_flight)
    if args.no_aws_faults:
        config = dataclasses.replace(config, aws_faults={})
    if args.verbose:
        report = run_soak(config)
    else:
        # Before the handlers are imported (their Powertools logger reads it once); EMF metrics are printed.
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
        logging.disable(logging.ERROR)  # moto logs the previous-release executions' missing paths as errors
        with open(os.devnull, "w", encoding="utf-8") as devnull, contextlib.redirect_stdout(devnull):
            report = run_soak(config)
    print(report.table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
