"""Finding a job and following it to the end, stage by stage."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from i2v.domain.jobs import TERMINAL, JobStatus
from i2v.domain.record import JobRecord
from i2v_cli.output import CliError
from i2v_cli.target import Target

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
JOB_ID_PREFIX = re.compile(r"^[0-9a-f]{6,31}$")
SHORT_ID = 12  # what `i2v list` shows: 48 bits, so two recent jobs sharing it is very unlikely
PREFIX_SEARCH_PER_STATUS = 500
STAGES = {
    JobStatus.RECEIVED: "uploaded",
    JobStatus.DEFERRED: "waiting for budget (the daily cap is reached)",
    JobStatus.SUBMITTING: "submitting",
    JobStatus.SUBMITTED: "submitted",
    JobStatus.QUEUED: "queued",
    JobStatus.PROCESSING: "processing",
    JobStatus.SUCCEEDED: "done",
    JobStatus.FAILED: "failed",
    JobStatus.TIMED_OUT: "timed out",
    JobStatus.REJECTED: "rejected",
    JobStatus.SUBMIT_AMBIGUOUS: "needs an operator (ambiguous submission)",
}
ENDED = TERMINAL | {JobStatus.SUBMIT_AMBIGUOUS}


def stage_of(job: JobRecord) -> str:
    """What a person should read for the job's status; a deferred job says what it waits for."""
    if job.status != JobStatus.DEFERRED:
        return STAGES[job.status]
    if job.unavailable_since is not None:
        since = time.strftime("%H:%M:%S", time.gmtime(job.unavailable_since))
        return f"waiting for GMI (unreachable or refusing since {since} UTC, {job.unavailable_looks} looks)"
    if job.pace_slot_at is not None:
        return f"waiting for its turn (submissions are paced; next at {time.strftime('%H:%M:%S', time.gmtime(job.pace_slot_at))} UTC)"
    if job.failure is not None and job.failure.category == "budget":  # the count cap or a dollar budget: which
        return f"waiting for budget ({job.failure.message})"
    return STAGES[job.status]


def find_job(target: Target, reference: str, wait_seconds: float = 0.0) -> JobRecord:
    """A job id, a prefix of one (as `i2v list` shows them), an S3 key under the input bucket, or s3://bucket/key
    (newest version's job)."""
    repo = target.repository()
    deadline = time.monotonic() + wait_seconds
    while True:
        if JOB_ID.match(reference):
            job = repo.get(reference)
        elif JOB_ID_PREFIX.match(reference):
            job = _by_prefix(target, reference)
        else:
            bucket, key = target.outputs["InputBucketName"], reference
            if reference.startswith("s3://"):
                bucket, _, key = reference.removeprefix("s3://").partition("/")
            found = repo.by_source(bucket, key)
            job = found[0] if found else None
        if job is not None:
            return job
        if time.monotonic() >= deadline:
            raise CliError(f"no job found for {reference!r}")
        time.sleep(0.25)


def _by_prefix(target: Target, prefix: str) -> JobRecord | None:
    """The recent job whose id starts with `prefix` (ids are hashes: no index by prefix; recent jobs per status)."""
    repo = target.repository()
    found = {
        job.job_id: job
        for status in JobStatus
        for job in repo.by_status(status, limit=PREFIX_SEARCH_PER_STATUS)
        if job.job_id.startswith(prefix)
    }
    if len(found) > 1:
        raise CliError(
            f"job id prefix {prefix!r} matches {len(found)} jobs: {', '.join(sorted(found))}; give more of it"
        )
    return next(iter(found.values()), None)


def follow(
    target: Target, job_id: str, on_change: Callable[[JobRecord], None], timeout: float, interval: float = 0.5
) -> JobRecord:
    repo = target.repository()
    deadline = time.monotonic() + timeout
    last: tuple[JobStatus, int] | None = None
    while True:
        job = repo.get(job_id)
        if job is None:
            raise CliError(f"job {job_id} disappeared")
        state = (job.status, job.poll_count)
        if state != last:
            on_change(job)
            last = state
        if job.status in ENDED:
            return job
        if time.monotonic() > deadline:
            raise CliError(
                f"job {job_id} still {stage_of(job)} after {timeout:.0f}s (it keeps running; `i2v watch` it)"
            )
        time.sleep(interval)
