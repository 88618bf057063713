"""What holds a job back before its POST, on the record and the queue: the daily cap's slot, the job's turn in
the pace, and parking while GMI accepts nothing (a fresh delayed message each time: receive counts never run out).
The decisions (turns, delays, patience) are the gate's (i2v.services.submit_gate)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.record import JobRecord
from i2v.domain.redaction import redact
from i2v.services.ports import JobRepositoryPort, MetricsSink, Requeue
from i2v.services.submit_gate import SubmitGate, Turn

logger = logging.getLogger(__name__)

BUDGET_RETRY_SECONDS = 900


@dataclass
class Holds:
    repo: JobRepositoryPort
    requeue: Requeue
    metrics: MetricsSink
    gate: SubmitGate
    clock: Callable[[], float] = time.time

    # ---- the daily cap ----------------------------------------------------------------------------------------
    def take_budget(self, cap: int, today: datetime) -> tuple[bool, str | None]:
        """Whether the job may be paid for today, and the day its slot was taken from (None: no slot taken)."""
        if cap <= 0:
            return True, None
        expires = int((today + timedelta(days=3)).timestamp())
        day = today.strftime("%Y-%m-%d")
        taken = self.repo.consume_budget(day, cap, expires)
        return taken, day if taken else None

    def give_back_budget(self, cap: int, day: str | None) -> None:
        # The day it was taken from: a refusal after UTC midnight gives back yesterday's slot.
        if cap > 0 and day is not None:
            self.repo.release_budget(day)

    def defer_for_budget(self, job: JobRecord, reason: str) -> None:
        """Over the count cap or a dollar budget (`reason`): look again later, the next UTC day at the latest."""
        if job.status != JobStatus.DEFERRED:
            message = f"{reason}; waiting for the next day"
            self.repo.transition(
                job.job_id, JobStatus.DEFERRED, {"failure": {"category": "budget", "message": message}}
            )
            self.metrics.add_metric(MetricName.SUBMISSIONS_DEFERRED, "Count", 1)
        self.requeue({"kind": "resume", "job_id": job.job_id}, delay_seconds=BUDGET_RETRY_SECONDS)

    # ---- the pace and GMI's availability ----------------------------------------------------------------------
    def wait_turn(self, job: JobRecord, turn: Turn) -> None:
        """Over the pace: wait for the turn reserved for it, on the queue (a fresh delayed message)."""
        self.repo.transition(job.job_id, JobStatus.DEFERRED, {"pace_slot_at": turn.slot_at})
        self.metrics.add_metric(MetricName.SUBMISSIONS_PACED, "Count", 1)
        self.requeue({"kind": "resume", "job_id": job.job_id}, delay_seconds=self.gate.defer_delay(turn))

    def park(self, job: JobRecord, reason: str, not_before: float | None = None) -> Failure | None:
        """GMI provably took nothing: park the job, look again later (not before `not_before`) through a fresh
        delayed message, give up after the patience (the failure to end the job with; None when parked)."""
        parking = self.gate.park(job, self.clock(), not_before)
        if parking.give_up:
            hours = self.gate.patience_seconds / 3600
            message = f"GMI accepted no submission for {hours:g} h: {reason}"
            return Failure(category=FailureCategory.GMI_UNAVAILABLE, message=message)
        self.repo.transition(job.job_id, JobStatus.DEFERRED, parking.fields(redact(reason)), remove=("pace_slot_at",))
        self.metrics.add_metric(MetricName.SUBMISSIONS_PARKED, "Count", 1)
        logger.warning("GMI unavailable for job %s (%s); next look in %ds", job.job_id, reason, parking.delay_seconds)
        self.requeue({"kind": "resume", "job_id": job.job_id}, delay_seconds=parking.delay_seconds)
        return None
