"""Chaos soak: N uploads through the local pipeline under seeded GMI faults and duplicate S3 events.

    python -m i2v_local.soak --uploads 500 --seed 7      # `make soak`

The real synthesized template in moto (the local stack, in-process handlers, moto's Step Functions
interpreter) against the GMI simulator. The seed fixes the whole plan before anything runs: which uploads
are bad images, which S3 notifications are re-sent, and which upload gets which fault (FAULT_MIX: a share
of the good uploads each, at least one each). A fault travels as a `[sim:...]` marker in the upload's prompt,
so it fires on that upload's submission, status check or download, whatever the timing of the run: the
same seed fires the same faults. Faults: 5xx and 429 on submissions and status checks, POSTs GMI answers
with 500 or 503 after creating the job, POSTs that time out after acceptance (GMI_TIMEOUT_SECONDS=1), video
downloads cut short once (retried by the state machine). Prints a table; exits non-zero unless every
invariant holds:

- no job lost: every upload has a record;
- every job ended, with a reason: a terminal status (or submit_ambiguous, which waits for an operator) and a
  failure category (or an output for succeeded);
- the faults asked for fired, each exactly as often as planned;
- no image paid twice, ambiguous jobs included, and none after GMI answered 503 having created the job
  (found in GMI's request list before a second POST: README, Guarantees);
- every ending announced: each job has a Succeeded / Failed event of its final status;
- the counts by status add up to N.
"""

from __future__ import annotations

import argparse
import contextlib
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
from urllib.parse import unquote, urlsplit

from i2v.domain.record import EventDetailType, JobRecord
from i2v_local.simulator import FaultPlan, GmiSimulator, Timing
from i2v_local.soak_plan import FAULT_MIX, SoakConfig, SoakPlan, plan_uploads
from i2v_local.stack import FunctionSpec, Invocation, LocalSettings, LocalStack
from i2v_local.stack.driver import PipelineDriver

__all__ = ["FAULT_MIX", "SoakConfig", "SoakPlan", "SoakReport", "plan_uploads", "run_soak"]

ENDED = frozenset({"succeeded", "failed", "timed_out", "rejected", "submit_ambiguous"})


@dataclass
class Invariant:
    name: str
    ok: bool
    detail: str


@dataclass
class SoakReport:
    config: SoakConfig
    seconds: float
    statuses: Counter[str]
    categories: Counter[str]
    faults_planned: Counter[str]
    faults_fired: Counter[str]
    fault_plan: dict[str, str]  # upload key -> the fault it was given
    duplicates_sent: int
    bad_images: int
    posts: int
    executions: int
    truncations_healed: int
    invariants: list[Invariant]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.invariants)

    def table(self) -> str:
        n = self.config.uploads
        lines = [
            f"chaos soak: {n} uploads, seed {self.config.seed}, {self.seconds:.0f} s",
            "",
            f"{'status':<20}{'jobs':>8}{'share':>9}",
        ]
        for status, count in sorted(self.statuses.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"{status:<20}{count:>8}{count / n:>9.1%}")
        lines.append(f"{'total':<20}{sum(self.statuses.values()):>8}")
        lines += ["", f"{'failure category':<28}{'jobs':>8}"]
        lines += [f"{name:<28}{count:>8}" for name, count in sorted(self.categories.items())]
        lines += ["", f"{'fault':<40}{'planned':>8}{'fired':>8}"]
        lines += [
            f"{name:<40}{self.faults_planned[name]:>8}{self.faults_fired[name]:>8}"
            for name in sorted(set(self.faults_planned) | set(self.faults_fired))
        ]
        lines += [
            f"{'duplicate S3 notifications re-sent':<40}{self.duplicates_sent:>8}",
            f"{'bad images uploaded':<40}{self.bad_images:>8}",
            f"{'truncated downloads healed by retry':<40}{self.truncations_healed:>8}",
            f"{'GMI jobs created (paid POSTs)':<40}{self.posts:>8}",
            f"{'workflow executions':<40}{self.executions:>8}",
            "",
        ]
        lines += [f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}" for check in self.invariants]
        return "\n".join(lines)


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
        self.duplicates_sent = 0
        self.truncations_healed = 0
        self.tap = stack.tap_events()
        stack.router.before_invoke.append(self._capture_notification)
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
        planned = self.plan()
        in_flight: dict[str, _Upload] = {}
        started = time.monotonic()
        last_progress = started
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
            time.sleep(0.05)
        self._settle()
        self._resend(self.late)
        self._settle()

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
        unexplained = [job_id for job_id, record in found.items() if not _explained(record)]
        executions = self._executions()
        invariants.append(
            Invariant(
                "every job ended with a reason",
                not unended and not unexplained,
                f"{len(unended)} not ended {_sample(unended, found, executions)}, {len(unexplained)} without a reason",
            )
        )

        created = Counter(_source_key(job.payload) for job in self.sim.jobs.values())
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
            invariants=invariants,
        )

    def _executions(self) -> list[dict[str, Any]]:
        pages = self.stack.client("stepfunctions").get_paginator("list_executions")
        arn = self.pipeline.state_machine_arn
        return [e for page in pages.paginate(stateMachineArn=arn) for e in page["executions"]]

    def _announcements(self) -> dict[str, set[str]]:
        seen: dict[str, set[str]] = {}
        for event in self.tap.drain():
            detail = event.get("detail") or {}
            if event.get("detail-type") in (EventDetailType.SUCCEEDED, EventDetailType.FAILED):
                seen.setdefault(str(detail.get("job_id")), set()).add(str(detail.get("status")))
        return seen


def _explained(record: JobRecord) -> bool:
    if record.status == "succeeded":
        return record.output is not None and record.output.size > 0
    return record.failure is not None and bool(record.failure.category) and bool(record.failure.message)


def _sample(job_ids: list[str], found: Mapping[str, JobRecord], executions: list[dict[str, Any]]) -> str:
    """A few stuck jobs, each with its record's status and its executions' (a record that disagrees with a
    finished execution points at the record's writes, one still running at the workflow)."""
    if not job_ids:
        return ""
    runs = {job_id: [e["status"] for e in executions if e["name"].startswith(f"{job_id}-")] for job_id in job_ids}
    return str([f"{j[:8]}:{found[j].status} (execution {'/'.join(runs[j]) or 'none'})" for j in job_ids[:5]])


def _fault_name(spec: str | None) -> str:
    return spec.split()[0] if spec else ""


def _source_key(payload: Mapping[str, Any]) -> str:
    """The S3 key of the image a GMI job was created for (path-style presigned URL: /bucket/key)."""
    path = unquote(urlsplit(str(payload.get("image_url", ""))).path)
    return path.split("/", 2)[2] if path.count("/") >= 2 else path


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
    with GmiSimulator(timing=Timing.zero(), faults=FaultPlan(), video_size_bytes=config.video_bytes) as sim:
        settings = LocalSettings.for_simulator(sim, gmi_timeout_seconds=1)
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
    parser.add_argument("--verbose", action="store_true", help="keep the functions' logs and metrics on stdout")
    args = parser.parse_args(argv)
    config = SoakConfig(uploads=args.uploads, seed=args.seed, max_in_flight=args.in_flight)
    if args.verbose:
        report = run_soak(config)
    else:
        # Before the handlers are imported (their Powertools logger reads it once); EMF metrics are printed.
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
        logging.disable(logging.WARNING)
        with open(os.devnull, "w", encoding="utf-8") as devnull, contextlib.redirect_stdout(devnull):
            report = run_soak(config)
    print(report.table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
