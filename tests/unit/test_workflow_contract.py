"""The workflow contract (i2v.domain.workflow): one set of models for submit, the tasks and the state machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from i2v.domain.jobs import FailureCategory, TransientError
from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import (
    CompleteInput,
    CompletePayload,
    ExecutionInput,
    ExecutionState,
    FailureState,
    PollResult,
    PollState,
    VideoNotStoredError,
    json_path,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _first(gmi_status: str | None) -> ExecutionInput:
    return ExecutionInput.first(
        job_id="j" * 32,
        attempt=2,
        request_id="r-1",
        model="pixverse-v5.5-i2v",
        time_class={"quality": "540p", "duration": "5"},
        submitted_at=100.0,
        deadline_at=1900.0,
        gmi_status=gmi_status,
        expectation=None,
        first_wait_seconds=20,
    )


@pytest.mark.parametrize("status", ["success", "SUCCESS", "succeeded", "Completed"])
def test_a_request_finished_during_the_post_starts_as_succeeded(status: str) -> None:
    # Every spelling domain/polling.py accepts as finished, not only "success".
    assert _first(status).poll.outcome == PollOutcome.SUCCEEDED


@pytest.mark.parametrize("status", [None, "queued", "processing", "dispatched", "failed"])
def test_a_request_still_running_starts_waiting(status: str | None) -> None:
    first = _first(status)
    assert first.poll.outcome == PollOutcome.WAITING
    assert first.poll.next_wait_seconds == 20
    assert first.gmi_status == (status or "queued").lower()


def test_the_execution_input_is_what_the_poll_and_complete_tasks_read() -> None:
    dumped = json.loads(json.dumps(_first("queued").model_dump(mode="json")))
    assert PollState.model_validate(dumped).request_id == "r-1"
    assert CompleteInput.model_validate(dumped) == CompleteInput(job_id="j" * 32, request_id="r-1", attempt=2)
    assert dumped["poll"] == {
        "outcome": "waiting",
        "next_wait_seconds": 20,
        "poll_count": 0,
        "consecutive_errors": 0,
        "gmi_status": None,
        "failure": None,
        "failed_stores": 0,
        # Computed (what the Watch state's DelaySeconds reads), dumped for the state machine, ignored when read
        # back: a state that comes back with another wait gets its own delay.
        "queue_delay_seconds": 20,
    }
    read_back = PollState.model_validate({**dumped, "poll": {**dumped["poll"], "next_wait_seconds": 3600}})
    assert read_back.poll.queue_delay_seconds == 900  # SQS's DelaySeconds limit; the watcher hops on


def _raise_not_stored() -> None:
    raise VideoNotStoredError("GMI answered 503", FailureCategory.DOWNLOAD_FAILED)


def test_a_video_not_stored_keeps_its_name_for_a_definition_with_the_store_loop() -> None:
    payload = CompletePayload.model_validate({"job_id": "j", "request_id": "r", "attempt": 1, "store_loop": True})
    with pytest.raises(VideoNotStoredError), payload.errors_its_definition_retries():
        _raise_not_stored()


def test_an_execution_started_before_the_store_loop_gets_the_name_its_retry_knows() -> None:
    """Its definition retries TransientError only, and catches everything else into RecordFailure."""
    payload = CompletePayload.model_validate_json((EVENTS / "complete_input.json").read_text())
    assert payload.store_loop is False
    with pytest.raises(TransientError) as raised, payload.errors_its_definition_retries():
        _raise_not_stored()
    assert type(raised.value) is TransientError
    assert str(raised.value) == "download_failed: GMI answered 503"
    assert raised.value.category == FailureCategory.DOWNLOAD_FAILED


def test_sample_inputs_follow_the_contract() -> None:
    PollState.model_validate_json((EVENTS / "poll_input.json").read_text())
    CompleteInput.model_validate_json((EVENTS / "complete_input.json").read_text())
    verdict = FailureState.model_validate_json((EVENTS / "fail_input_poll_failure.json").read_text())
    assert verdict.failure().category == FailureCategory.GMI_FAILED
    caught = FailureState.model_validate_json((EVENTS / "fail_input_caught_error.json").read_text())
    assert caught.failure().category == FailureCategory.ARTIFACT_EXPIRED
    assert caught.failure().message.startswith("video URL answered 403")


def test_a_catch_without_a_json_cause_keeps_the_error_name() -> None:
    state = FailureState.model_validate({"job_id": "j", "error": {"Error": "States.Runtime", "Cause": None}})
    failure = state.failure()
    assert (failure.category, failure.message) == (FailureCategory.WORKFLOW_ERROR, "States.Runtime")
    plain = FailureState.model_validate({"job_id": "j", "error": {"Error": "X", "Cause": "not json"}})
    assert plain.failure().message == "not json"


def test_the_poll_verdict_wins_over_a_caught_error() -> None:
    state = FailureState.model_validate(
        {
            "job_id": "j",
            "poll": PollResult(outcome=PollOutcome.TIMED_OUT).model_dump(mode="json")
            | {"failure": {"category": "timed_out", "message": "late"}},
            "error": {"Error": "X", "Cause": "y"},
        }
    )
    assert state.failure().category == FailureCategory.TIMED_OUT


def test_json_path_refuses_a_field_the_models_do_not_have() -> None:
    assert json_path(ExecutionState, "poll", "next_wait_seconds") == "$.poll.next_wait_seconds"
    assert json_path(ExecutionState, "error", "Cause") == "$.error.Cause"  # the JSON name, as a Catch writes it
    with pytest.raises(KeyError):
        json_path(ExecutionState, "poll", "next_wait")
    with pytest.raises(KeyError):
        json_path(ExecutionState, "job_id", "anything")
    with pytest.raises(KeyError):
        json_path(ExecutionState, "error", "cause")
