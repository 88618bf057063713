"""What the submit service answers for one job (the handler logs it; tests assert on it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from i2v.domain.jobs import JobStatus

# Statuses the submit function itself ends a job in (and announces).
ENDED_BY_SUBMIT = frozenset({JobStatus.REJECTED, JobStatus.FAILED, JobStatus.SUBMIT_AMBIGUOUS})


class SubmitOutcome(StrEnum):
    SUBMITTED = "submitted"
    RESUMED = "resumed"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    AMBIGUOUS = "ambiguous"
    RECONCILED = "reconciled"
    FAILED = "failed"


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    job_id: str | None
    status: str | None = None
