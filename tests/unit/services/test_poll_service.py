"""PollService on fakes: each GMI answer becomes the right PollResult and record update."""

from __future__ import annotations

import pytest

from i2v.domain.gmi_answers import GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import JobStatus
from i2v.domain.polling import PollOutcome, PollPolicy
from i2v.domain.workflow import ExecutionInput, PollResult, PollState
from i2v.services.poll import PollService
from support.fakes import Fakes
from support.poll_service import FakeClock, poll_service

JOB_ID = "a" * 32
SUBMITTED_AT = 1_800_000_000.0


def _service(fakes: Fakes, elapsed: float = 30.0, **policy: int) -> tuple[PollService, FakeClock]:
    return poll_service(fakes, JOB_ID, SUBMITTED_AT + elapsed, **policy)


def _state(poll: PollResult | None = None, deadline_seconds: float = 1800) -> PollState:
    first = ExecutionInput.first(
        job_id=JOB_ID,
        attempt=1,
        request_id="req-1",
        model="m",
        time_class={"quality": "540p", "duration": "5"},
        submitted_at=SUBMITTED_AT,
        deadline_at=SUBMITTED_AT + deadline_seconds,
        gmi_status="queued",
        expectation=None,
        first_wait_seconds=20,
    )
    return PollState.model_validate({**first.model_dump(), **({"poll": poll} if poll else {})})


def _answer(fakes: Fakes, status: str, **fields: object) -> None:
    fakes.gmi.get_answers.append(GmiRequest.model_validate({"request_id": "req-1", "status": status, **fields}))


@pytest.mark.parametrize(("gmi_status", "record_status"), [("queued", "queued"), ("processing", "processing")])
def test_progress_is_recorded_and_the_next_look_scheduled(fakes: Fakes, gmi_status: str, record_status: str) -> None:
    _answer(fakes, gmi_status)
    service, _ = _service(fakes)

    result = service.poll_once(_state())

    assert (result.outcome, result.gmi_status, result.poll_count) == (PollOutcome.WAITING, gmi_status, 1)
    assert result.next_wait_seconds >= 1
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert (job.status, job.poll_count) == (record_status, 1)


def test_success_is_handed_to_complete_without_touching_the_record(fakes: Fakes) -> None:
    _answer(fakes, "success")
    service, _ = _service(fakes)
    result = service.poll_once(_state())
    assert (result.outcome, result.failure) == (PollOutcome.SUCCEEDED, None)
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.status == JobStatus.SUBMITTED


@pytest.mark.parametrize(
    ("status", "message", "category"),
    [
        ("failed", "content moderation rejected the image", "gmi_failed"),
        ("failed", "image_url could not be fetched (HTTP 404)", "image_unreachable"),
        ("cancelled", "", "gmi_cancelled"),
    ],
)
def test_a_failed_request_carries_its_category(fakes: Fakes, status: str, message: str, category: str) -> None:
    _answer(fakes, status, error=message or None)
    service, _ = _service(fakes)
    result = service.poll_once(_state())
    assert result.outcome == PollOutcome.FAILED
    assert result.failure is not None
    assert result.failure.category == category


def test_a_failed_status_check_backs_off_and_keeps_the_last_known_status(fakes: Fakes) -> None:
    fakes.gmi.get_answers.append(GmiRetryableError("GMI status check failed: ReadTimeout"))
    service, _ = _service(fakes, error_backoff_seconds=5)
    previous = PollResult(next_wait_seconds=4, poll_count=3, consecutive_errors=1, gmi_status="processing")

    result = service.poll_once(_state(previous))

    assert (result.outcome, result.gmi_status) == (PollOutcome.WAITING, "processing")
    assert (result.poll_count, result.consecutive_errors, result.next_wait_seconds) == (4, 2, 10)
    assert fakes.metrics.names() == ["PollErrors"]


def test_a_failed_status_check_past_the_deadline_times_out(fakes: Fakes) -> None:
    fakes.gmi.get_answers.append(GmiRetryableError("GMI status check failed: ConnectTimeout"))
    service, _ = _service(fakes, elapsed=120)
    result = service.poll_once(_state(deadline_seconds=60))
    assert result.outcome == PollOutcome.TIMED_OUT
    assert result.failure is not None
    assert result.failure.category == "timed_out"
    assert result.gmi_status == "unknown"


@pytest.mark.parametrize(("status_code", "category"), [(404, "gmi_not_found"), (401, "gmi_unauthorized")])
def test_a_refused_status_check_fails_the_job(fakes: Fakes, status_code: int, category: str) -> None:
    fakes.gmi.get_answers.append(GmiPermanentError(f"GMI answered {status_code}", status_code=status_code))
    service, _ = _service(fakes)
    result = service.poll_once(_state())
    assert result.outcome == PollOutcome.FAILED
    assert result.failure is not None
    assert result.failure.category == category


def test_a_job_still_running_at_its_deadline_times_out(fakes: Fakes) -> None:
    _answer(fakes, "processing")
    service, _ = _service(fakes, elapsed=61)
    result = service.poll_once(_state(deadline_seconds=60))
    assert (result.outcome, result.gmi_status) == (PollOutcome.TIMED_OUT, "processing")
    assert result.failure is not None
    assert "60 s deadline" in result.failure.message


def test_the_record_never_moves_backwards(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    fakes.repo.transition(JOB_ID, JobStatus.PROCESSING)
    _answer(fakes, "queued")
    service.poll_once(_state())
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert (job.status, job.gmi_status, job.poll_count) == (JobStatus.PROCESSING, "queued", 1)


def test_short_waits_are_slept_inside_one_invocation(fakes: Fakes) -> None:
    for _ in range(3):
        _answer(fakes, "processing")
    _answer(fakes, "success")
    service, clock = _service(fakes, min_wait_seconds=2, fine_interval_seconds=2, max_wait_seconds=2)
    result = service.poll(_state(), time_left_ms=lambda: 900_000)
    assert (result.outcome, result.poll_count) == (PollOutcome.SUCCEEDED, 4)
    assert clock.slept == [2, 2, 2]


def test_long_waits_go_back_to_the_state_machine(fakes: Fakes) -> None:
    _answer(fakes, "processing")
    service, clock = _service(fakes, elapsed=500)
    result = service.poll(_state(), time_left_ms=lambda: 900_000)
    assert result.outcome == PollOutcome.WAITING
    assert result.next_wait_seconds > PollPolicy().inline_max_wait_seconds
    assert clock.slept == []


def test_only_a_changed_status_is_written_to_the_record(fakes: Fakes) -> None:
    for status in ("queued", "processing", "processing", "processing"):
        _answer(fakes, status)
    _answer(fakes, "success")
    service, _ = _service(fakes, min_wait_seconds=2, fine_interval_seconds=2, max_wait_seconds=2)
    result = service.poll(_state(), time_left_ms=lambda: 900_000)
    assert (result.outcome, result.poll_count) == (PollOutcome.SUCCEEDED, 5)
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    # Written at poll 1 (queued) and poll 2 (processing); polls 3 and 4 brought no news.
    assert (job.status, job.gmi_status, job.poll_count) == (JobStatus.PROCESSING, "processing", 2)
