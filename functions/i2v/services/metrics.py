"""How a job's end is counted and announced (the metric names themselves: i2v.domain.metric_names)."""

from __future__ import annotations

from i2v.domain.events import DetailType, failed_detail
from i2v.domain.jobs import JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.record import JobRecord
from i2v.services.ports import JobRepositoryPort, MetricsSink, PublisherPort

# The count of jobs that ended in each status.
JOBS_ENDED: dict[JobStatus, MetricName] = {
    JobStatus.SUCCEEDED: MetricName.JOBS_SUCCEEDED,
    JobStatus.FAILED: MetricName.JOBS_FAILED,
    JobStatus.TIMED_OUT: MetricName.JOBS_TIMED_OUT,
    JobStatus.REJECTED: MetricName.JOBS_REJECTED,
    JobStatus.SUBMIT_AMBIGUOUS: MetricName.JOBS_SUBMIT_AMBIGUOUS,
}

# Each failure category is also counted on its own: Failure_<category> (e.g. Failure_gmi_failed).
FAILURE_METRIC_PREFIX = "Failure_"


def failure_metric(category: str) -> str:
    return f"{FAILURE_METRIC_PREFIX}{category}"


def count_job_end(metrics: MetricsSink, job: JobRecord) -> None:
    """Count a job that just ended (once: callers count only the transition that ended it)."""
    metrics.add_metric(JOBS_ENDED[job.status], "Count", 1)
    if job.failure is not None and job.status != JobStatus.SUCCEEDED:
        metrics.add_metric(failure_metric(job.failure.category), "Count", 1)


def announce_failure(publisher: PublisherPort, repo: JobRepositoryPort, job: JobRecord) -> None:
    """Publish the Failed event and remember it went out, so a redelivery re-announces only what did not."""
    publisher.publish(DetailType.FAILED, failed_detail(job))
    repo.annotate(job.job_id, {"announced": str(job.status)})
