"""Operator retry: put an ended job back to `received` under a new attempt and queue it for submission."""

from __future__ import annotations

from i2v.domain.jobs import RETRYABLE_BY_OPERATOR, FailureCategory, JobStatus
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


# Rejections that come from the upload itself (its bytes or its metadata): a retry reads the same object again,
# so it is rejected again unless the deployment's settings or limits changed meanwhile.
FIXED_BY_A_NEW_UPLOAD = frozenset(
    {
        FailureCategory.INVALID_SETTINGS,
        FailureCategory.EMPTY_IMAGE,
        FailureCategory.IMAGE_TOO_LARGE,
        FailureCategory.UNSUPPORTED_FORMAT,
        FailureCategory.SOURCE_MISSING,
    }
)


class RetryRefusedError(Exception):
    pass


def retry_hint(job: JobRecord) -> str | None:
    """What an operator should know before a retry that would most likely end as the last attempt did."""
    if job.failure is None or job.failure.category not in FIXED_BY_A_NEW_UPLOAD:
        return None
    if job.sidecar is None and "settings sidecar" in job.failure.message:
        # A rejected sidecar is not pinned: the retry reads the sidecar's key again, so fixing it there is enough.
        return (
            f"attempt {job.attempt} was rejected for its settings sidecar; a retry reads the sidecar again, so fix "
            "it first (the image and its metadata are read as they are)"
        )
    return (
        f"attempt {job.attempt} was rejected as {job.failure.category}; a retry reads the same image and metadata "
        "again, so it only helps if the deployment's settings changed. To fix the image or its settings, upload it "
        "again (a new upload is a new job)"
    )


def retry_job(repo: JobRepositoryPort, requeue: Requeue, job_id: str, confirm_ambiguous: bool) -> JobRecord:
    job = repo.get(job_id)
    if job is None:
        raise RetryRefusedError(f"job {job_id} does not exist")
    if job.status not in RETRYABLE_BY_OPERATOR:
        retryable = ", ".join(sorted(status.value for status in RETRYABLE_BY_OPERATOR))
        raise RetryRefusedError(f"job {job_id} is {JobStatus(job.status).value}; only {retryable} jobs can be retried")
    if job.status == JobStatus.SUBMIT_AMBIGUOUS and not confirm_ambiguous:
        raise RetryRefusedError(
            f"job {job_id} may already be running (and billed) at GMI; retrying can pay twice. Confirm to go on"
        )
    job = repo.transition(job_id, JobStatus.RECEIVED, remove=CLEARED_ON_RETRY, increment_attempt=True)
    requeue({"kind": "retry", "job_id": job_id}, delay_seconds=0)
    return job
