"""Operator retry: put an ended job back to `received` under a new attempt and queue it for submission."""

from __future__ import annotations

from i2v.domain.jobs import RETRYABLE_BY_OPERATOR, JobStatus
from i2v.domain.record import JobRecord
from i2v.services.ports import JobRepositoryPort, Requeue

CLEARED_ON_RETRY = (
    "failure",
    "request_id",
    "gmi_status",
    "execution_name",
    "output",
    "generation_seconds",
    "history_key",
    "announced",
)


class RetryRefusedError(Exception):
    pass


def retry_job(repo: JobRepositoryPort, requeue: Requeue, job_id: str, confirm_ambiguous: bool) -> JobRecord:
    job = repo.get(job_id)
    if job is None:
        raise RetryRefusedError(f"job {job_id} does not exist")
    if job.status not in RETRYABLE_BY_OPERATOR:
        raise RetryRefusedError(f"job {job_id} is {job.status}; only {sorted(RETRYABLE_BY_OPERATOR)} can be retried")
    if job.status == JobStatus.SUBMIT_AMBIGUOUS and not confirm_ambiguous:
        raise RetryRefusedError(
            f"job {job_id} may already be running (and billed) at GMI; retrying can pay twice. Confirm to go on"
        )
    job = repo.transition(job_id, JobStatus.RECEIVED, remove=CLEARED_ON_RETRY, increment_attempt=True)
    requeue({"kind": "retry", "job_id": job_id}, delay_seconds=0)
    return job
