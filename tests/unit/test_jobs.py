import pytest

from i2v.domain.jobs import (
    TERMINAL,
    TRANSITIONS,
    FailureCategory,
    JobFailedError,
    JobStatus,
    TransientError,
    can_transition,
    parse_failure,
    sources_of,
)


def test_every_status_has_a_transition_entry():
    assert set(TRANSITIONS) == set(JobStatus)


def test_succeeded_is_final_and_never_goes_backwards():
    assert TRANSITIONS[JobStatus.SUCCEEDED] == frozenset()
    assert not can_transition(JobStatus.PROCESSING, JobStatus.QUEUED)
    assert not can_transition(JobStatus.SUCCEEDED, JobStatus.FAILED)


def test_only_submitting_can_become_ambiguous():
    assert sources_of(JobStatus.SUBMIT_AMBIGUOUS) == {JobStatus.SUBMITTING}


def test_submission_needs_a_claimed_job():
    assert sources_of(JobStatus.SUBMITTING) == {JobStatus.RECEIVED, JobStatus.DEFERRED}


def test_terminal_statuses_only_lead_back_to_received_via_operator_retry():
    for status in TERMINAL - {JobStatus.SUCCEEDED}:
        assert TRANSITIONS[status] == {JobStatus.RECEIVED}


@pytest.mark.parametrize("status", [JobStatus.SUBMITTED, JobStatus.QUEUED, JobStatus.PROCESSING])
def test_in_flight_jobs_can_fail_or_time_out(status):
    assert can_transition(status, JobStatus.FAILED)
    assert can_transition(status, JobStatus.TIMED_OUT)


def test_failure_round_trips_through_an_error_message():
    error = JobFailedError(FailureCategory.ARTIFACT_EXPIRED, "video URL answered 403")
    assert str(error) == "artifact_expired: video URL answered 403"
    failure = parse_failure(str(error), FailureCategory.WORKFLOW_ERROR)
    assert failure.category == "artifact_expired"
    assert failure.message == "video URL answered 403"
    transient = TransientError("stream broke", FailureCategory.DOWNLOAD_FAILED)
    assert parse_failure(str(transient), FailureCategory.WORKFLOW_ERROR).category == "download_failed"


def test_unknown_error_text_keeps_default_category():
    failure = parse_failure("Lambda.Unknown: something", FailureCategory.WORKFLOW_ERROR)
    assert failure.category == "workflow_error"
    assert failure.message == "Lambda.Unknown: something"
