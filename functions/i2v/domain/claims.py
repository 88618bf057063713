"""What the job repository port exchanges besides job records: the outcome of claiming an upload, a watch look's
claim, and a refused status change (services and their fakes use these; adapters/repository.py produces them)."""

from __future__ import annotations

from dataclasses import dataclass

from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord


@dataclass(frozen=True)
class ClaimResult:
    """created: ours to submit; duplicate: the job already exists; superseded: a newer version won."""

    outcome: str
    job: JobRecord | None


@dataclass(frozen=True)
class WatchLookClaim:
    """A watch look's claim on its job item (i2v.services.watch): look `look` of the chain `chain` (a short hash
    of the Watch task's token, never the token), by SQS message `message_id`, held until `lease_until` (epoch
    seconds: the claiming invocation's deadline)."""

    chain: str
    look: int
    message_id: str
    now: float
    lease_until: float


# The lease of a finished look (its successor sent): never over, so its own message, back after a lost delete or
# a batch timeout, never redoes it (year 33658; a number DynamoDB stores).
FINISHED_LOOK_LEASE = 1e12


class TransitionRejectedError(Exception):
    def __init__(self, job_id: str, target: JobStatus, current: JobStatus | None) -> None:
        super().__init__(f"job {job_id}: {current} -> {target} is not allowed")
        self.current = current
