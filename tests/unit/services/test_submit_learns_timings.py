"""What the polling policy learns at submit: the job's own time class, or its model while the class is cold."""

from __future__ import annotations

from test_submit_service import _service, _upload

from i2v.domain.workflow import ExecutionInput
from support.fakes import Fakes

CLASS = {"quality": "540p", "duration": "5"}


def _started(fakes: Fakes) -> ExecutionInput:
    service, _ = _service(fakes)
    result = service.submit_source(_upload(fakes, prompt="waves roll in"))
    return ExecutionInput.model_validate(fakes.workflow.started[f"{result.job_id}-1"])


def test_a_known_class_learns_from_its_own_successes_only(fakes: Fakes) -> None:
    fakes.repo.generation_history = [100.0, 110.0, 120.0, 105.0]
    fakes.repo.model_history = [30.0, 400.0, 35.0, 380.0]

    started = _started(fakes)

    assert fakes.repo.time_classes_asked == [("pixverse-v5.5-i2v", CLASS)]
    assert started.expectation is not None
    assert 60 < started.expectation.early_seconds < 100 < 120 < started.expectation.late_seconds < 200


def test_a_cold_class_learns_from_the_models_other_classes(fakes: Fakes) -> None:
    fakes.repo.generation_history = [100.0, 110.0]  # fewer than min_samples (3)
    fakes.repo.model_history = [60.0, 90.0, 150.0, 240.0]

    started = _started(fakes)

    assert fakes.repo.time_classes_asked == [("pixverse-v5.5-i2v", CLASS), ("pixverse-v5.5-i2v", None)]
    assert started.expectation is not None  # wider than a class window, but a first look before 60 s
    assert started.expectation.early_seconds < 60 < 240 < started.expectation.late_seconds


def test_with_no_history_at_all_the_policy_starts_blind(fakes: Fakes) -> None:
    started = _started(fakes)

    assert started.expectation is None
    assert started.poll.next_wait_seconds == 20  # PollPolicy.initial_wait_seconds
