"""The sweeper: on a schedule, every non-terminal job that nothing watches any more is moved on.

The rules are i2v.domain.sweep's; this service reads the stale jobs of each status (oldest first, a bounded
number per run), asks Step Functions about the in-flight ones, and acts: a reconcile or resume message on the
submit queue (the submit function does the rest, as for any message), or the job's end recorded and
announced through the failure service. One metric per action, and SweeperActed for any (its alarm).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from i2v.domain.metric_names import MetricName
from i2v.domain.record import JobRecord, iso
from i2v.domain.sweep import (
    NEEDS_EXECUTION,
    SWEPT_STATUSES,
    SweepAction,
    SweepWindows,
    Verdict,
    execution_name,
    verdict,
)
from i2v.services.failure import FailureService
from i2v.services.ports import ExecutionsPort, JobRepositoryPort, MetricsSink, NullMetrics, Requeue, StaleJobsPort
from i2v.services.reconcile import SETTLE_SECONDS

logger = logging.getLogger(__name__)

ACTION_METRICS = {
    SweepAction.RECONCILE: MetricName.SWEPT_TO_RECONCILE,
    SweepAction.RESUME: MetricName.SWEPT_TO_RESUME,
    SweepAction.RECORD_FAILURE: MetricName.SWEPT_TO_FAILURE,
}
# The submit function's command for each message the sweeper sends (i2v.handlers.parsing).
MESSAGE_KINDS = {SweepAction.RECONCILE: "reconcile", SweepAction.RESUME: "resume"}
# The reconcile message's delivery after its delay: an ambiguous job is swept SETTLE_SECONDS plus this after.
DELIVERY_MARGIN_SECONDS = 60
# Kept of the invocation: the last action in flight finishes, the report is logged.
RESERVE_MS = 10_000


def _forever() -> int:
    return 900_000


@dataclass
class Sweeper:
    jobs: StaleJobsPort
    repo: JobRepositoryPort
    executions: ExecutionsPort
    submit_queue: Requeue
    failures: FailureService
    windows: SweepWindows
    limit_per_status: int = 100
    metrics: MetricsSink = field(default_factory=NullMetrics)
    clock: Callable[[], float] = time.time

    def sweep(self, time_left_ms: Callable[[], int] = _forever) -> dict[str, int]:
        """One run: how many jobs got each action (`leave` included)."""
        done: Counter[str] = Counter()
        now = self.clock()
        for status in SWEPT_STATUSES:
            updated_before = iso_at(now - self.windows.youngest(status))
            # Jobs left alone without asking anyone (e.g. ambiguous ones waiting for an operator) cost a read
            # only, so they cannot crowd out the rest: the limit counts the jobs that needed a call.
            calls = 0
            for job in self.jobs.stale(status, updated_before):
                if time_left_ms() < RESERVE_MS:
                    logger.warning("sweep stopped for lack of time; the next run goes on", extra=dict(done))
                    return dict(done)
                if calls >= self.limit_per_status:
                    break
                found = self.sweep_one(job, now)
                calls += job.status in NEEDS_EXECUTION or found.action != SweepAction.LEAVE
                done[str(found.action)] += 1
        logger.info("sweep done", extra=dict(done))
        return dict(done)

    def sweep_one(self, job: JobRecord, now: float) -> Verdict:
        execution = self.executions.describe(execution_name(job)) if job.status in NEEDS_EXECUTION else None
        found = verdict(job, now, self.windows, execution)
        if found.action == SweepAction.LEAVE:
            return found
        logger.warning(
            "job %s (%s since %s): %s -> %s", job.job_id, job.status, job.updated_at, found.reason, found.action
        )
        if found.action == SweepAction.RECORD_FAILURE:
            assert found.failure is not None, "a failure verdict carries its failure"
            self.failures.record(job.job_id, found.failure)
        else:
            self.repo.annotate(job.job_id, {"swept_at": now})
            # `now`: the sweeper only reconciles past the settle window, so the look need not wait again.
            now_flag = {"now": True} if found.action == SweepAction.RECONCILE else {}
            self.submit_queue({"kind": MESSAGE_KINDS[found.action], "job_id": job.job_id, **now_flag}, 0)
        self.metrics.add_metric(ACTION_METRICS[found.action], "Count", 1)
        self.metrics.add_metric(MetricName.SWEEPER_ACTED, "Count", 1)
        return found


def windows(submit_message_seconds: int) -> SweepWindows:
    """The windows of a deployment: the submit queue's (computed at synth) and reconciliation's settling."""
    return SweepWindows(
        submit_message_seconds=submit_message_seconds, ambiguous_seconds=SETTLE_SECONDS + DELIVERY_MARGIN_SECONDS
    )


def iso_at(moment: float) -> str:
    return iso(datetime.fromtimestamp(moment, UTC))
