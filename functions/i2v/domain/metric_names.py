"""Every metric the functions emit: one list, read by the services that emit them, the adapters that write
them (adapters/spend_metrics.py) and the CDK constructs that build alarms and the dashboard from them, so an
alarm cannot watch a metric nobody emits (tests/unit/services/test_metric_names.py checks each name is emitted).
"""

from __future__ import annotations

from enum import StrEnum


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
