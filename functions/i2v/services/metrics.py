"""Every metric the functions emit, and how a job's end is counted and announced: one place for both.

infrastructure/i2v_infra/constructs/monitoring.py builds its alarms and dashboard from these names, so an
alarm cannot watch a metric nobody emits (tests/unit/services/test_metric_names.py drives the services
and checks that every name here is emitted).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from i2v.domain.events import DetailType, failed_detail
from i2v.domain.jobs import JobStatus

if TYPE_CHECKING:  # the ports import the adapters; this module stays light enough for the CDK app
    from i2v.domain.record import JobRecord
    from i2v.services.ports import JobRepositoryPort, MetricsSink, PublisherPort


class MetricName(StrEnum):
    JOBS_SUBMITTED = "JobsSubmitted"
    JOBS_SUCCEEDED = "JobsSucceeded"
    JOBS_FAILED = "JobsFailed"
    JOBS_TIMED_OUT = "JobsTimedOut"
    JOBS_REJECTED = "JobsRejected"
    JOBS_SUBMIT_AMBIGUOUS = "JobsSubmitAmbiguous"
    SUBMIT_AMBIGUOUS = "SubmitAmbiguous"
    SUBMIT_RETRIES = "SubmitRetries"
    SUBMISSIONS_DEFERRED = "SubmissionsDeferred"
    SUBMISSIONS_PACED = "SubmissionsPaced"  # over submit_rate_per_minute: waiting for its turn
    SUBMISSIONS_PARKED = "SubmissionsParked"  # GMI unavailable: parked until it accepts again
    DUPLICATES_SKIPPED = "DuplicatesSkipped"
    SUPERSEDED_EVENTS_SKIPPED = "SupersededEventsSkipped"
    POLL_ERRORS = "PollErrors"
    VIDEO_BYTES = "VideoBytes"
    GENERATION_SECONDS = "GenerationSeconds"
    # GMI's answers and ambiguous submissions (docs/architecture.md, "GMI's answers", "Reconciling").
    UNKNOWN_GMI_STATUS = "UnknownGmiStatus"
    INVALID_VIDEOS = "InvalidVideos"
    POSTERS_FAILED = "PostersFailed"
    SUBMISSIONS_RECONCILED = "SubmissionsReconciled"
    RECONCILE_NOT_FOUND = "ReconcileNotFound"
    # The sweeper had to act (docs/architecture.md, "The sweeper"): one metric per action, one alarm on them.
    SWEPT_TO_RECONCILE = "SweptToReconcile"
    SWEPT_TO_RESUME = "SweptToResume"
    SWEPT_TO_FAILURE = "SweptToFailure"
    # Every job the sweeper moved on, whatever it did: the one metric the SweeperActed alarm watches (an alarm is
    # billed per metric it reads, and this one fires on any action).
    SWEEPER_ACTED = "SweeperActed"
    # Dollar budgets (issue 25): the UTC day's reserved spend so far, per budget (dimension BUDGET_DIMENSION:
    # `all` or the prefix), emitted after each reservation and give-back; alarms at 80 % and 100 % read its Maximum.
    DAILY_SPEND_USD = "DailySpendUsd"
    # The previews function (docs/architecture.md, "Previews"): made, or the stored video could not be decoded.
    PREVIEWS_MADE = "PreviewsMade"
    UNDECODABLE_VIDEOS = "UndecodableVideos"


BUDGET_DIMENSION = "budget"


# The sweeper's actions (i2v.services.sweeper), each counted besides SWEEPER_ACTED (on the dashboard).
SWEEPER_ACTIONS = (MetricName.SWEPT_TO_RECONCILE, MetricName.SWEPT_TO_RESUME, MetricName.SWEPT_TO_FAILURE)

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
