"""The store loop on fakes: Poll after Complete ran out of retries on VideoNotStoredError (`store_error` set)."""

from __future__ import annotations

import json

from i2v.domain.gmi_answers import GmiRetryableError
from i2v.domain.jobs import JobStatus
from i2v.domain.polling import PollOutcome, PollPolicy
from i2v.domain.workflow import CaughtError, PollResult, PollState
from i2v.services.poll import PollService
from i2v.services.store_later import poll_after_failed_store
from support.fakes import Fakes
from support.poll_service import first_state, poll_service

JOB_ID = "b" * 32
SUBMITTED_AT = 1_800_000_000.0
DEADLINE = 1800
CAUSE = "download_failed: video stream broke after 14680064 bytes: ProtocolError"


def _service(fakes: Fakes, elapsed: float) -> PollService:
    return poll_service(fakes, JOB_ID, SUBMITTED_AT + elapsed, JobStatus.PROCESSING)[0]


def _state(outcome: PollOutcome, failed_stores: int = 0) -> PollState:
    """The execution state Poll gets in the store loop: Complete's Catch put its error at `store_error`."""
    poll = PollResult(outcome=outcome, gmi_status="success", poll_count=7, failed_stores=failed_stores)
    caught = CaughtError.model_validate({"Error": "VideoNotStoredError", "Cause": json.dumps({"errorMessage": CAUSE})})
    return first_state(JOB_ID, SUBMITTED_AT, DEADLINE).model_copy(update={"poll": poll, "store_error": caught})


def test_straight_from_complete_it_waits_longer_after_every_failed_round_without_asking_gmi(fakes: Fakes) -> None:
    waits = []
    for failed_before in range(6):
        result = poll_after_failed_store(_service(fakes, 300), _state(PollOutcome.SUCCEEDED, failed_before))
        assert result.outcome == PollOutcome.WAITING
        assert result.failed_stores == failed_before + 1
        assert result.poll_count == 7
        waits.append(result.next_wait_seconds)
    assert waits == [5, 10, 20, 40, 60, 60]  # the poll policy's error backoff, capped at max_wait_seconds
    assert fakes.gmi.looked_up == []  # Complete has just asked GMI


def test_the_wait_never_passes_the_deadline(fakes: Fakes) -> None:
    result = poll_after_failed_store(_service(fakes, DEADLINE - 7), _state(PollOutcome.SUCCEEDED, 5))
    assert (result.outcome, result.next_wait_seconds) == (PollOutcome.WAITING, 7)


def test_after_the_wait_a_job_gmi_calls_done_goes_back_to_complete(fakes: Fakes) -> None:
    result = poll_after_failed_store(_service(fakes, 300), _state(PollOutcome.WAITING, 2))
    assert (result.outcome, result.failed_stores, result.failure) == (PollOutcome.SUCCEEDED, 2, None)
    assert fakes.gmi.looked_up == ["req-1"]


def test_after_the_wait_a_gmi_outage_is_ridden_like_any_poll_error(fakes: Fakes) -> None:
    fakes.gmi.get_answers.extend(GmiRetryableError("GMI answered 503") for _ in range(3))
    service = _service(fakes, 300)
    service.policy = PollPolicy(inline_max_wait_seconds=0)  # one look per invocation
    result = poll_after_failed_store(service, _state(PollOutcome.WAITING, 2))
    assert (result.outcome, result.consecutive_errors, result.failed_stores) == (PollOutcome.WAITING, 1, 2)


def test_straight_from_complete_past_the_deadline_the_job_fails_download_failed(fakes: Fakes) -> None:
    result = poll_after_failed_store(_service(fakes, DEADLINE + 1), _state(PollOutcome.SUCCEEDED, 4))
    assert result.outcome == PollOutcome.FAILED
    assert result.failure is not None
    assert result.failure.category == "download_failed"
    assert result.failure.message == (
        "GMI made the video, but it could not be stored before the 1800 s deadline: "
        "video stream broke after 14680064 bytes: ProtocolError"
    )


def test_at_the_deadline_an_unreachable_gmi_is_not_a_plain_timeout(fakes: Fakes) -> None:
    fakes.gmi.get_answers.append(GmiRetryableError("GMI answered 503"))
    result = poll_after_failed_store(_service(fakes, DEADLINE), _state(PollOutcome.WAITING, 3))
    assert result.outcome == PollOutcome.FAILED
    assert result.failure is not None
    assert result.failure.category == "download_failed"
    assert "could not be stored before the 1800 s deadline" in result.failure.message


def test_caught_error_reads_the_category_and_message_of_the_lambda_error() -> None:
    caught = CaughtError.model_validate({"Error": "VideoNotStoredError", "Cause": json.dumps({"errorMessage": CAUSE})})
    failure = caught.failure()
    assert (failure.category, failure.message) == ("download_failed", CAUSE.removeprefix("download_failed: "))
