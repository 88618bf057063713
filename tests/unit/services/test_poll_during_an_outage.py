"""Issue 11, item 10: status checks that fail during a GMI outage (refused, 429, 503) never end a job before
its deadline; the loop keeps looking, backing off, and times out only at the deadline."""

from __future__ import annotations

from i2v.domain.gmi_answers import GmiRetryableError
from i2v.domain.polling import PollOutcome
from support.fakes import Fakes
from unit.services.test_poll_service import SUBMITTED_AT, _service, _state

HOUR = 3600.0


def test_an_outage_longer_than_the_polling_backoff_keeps_the_job_waiting_until_its_deadline(fakes: Fakes) -> None:
    service, clock = _service(fakes, elapsed=60.0)
    state = _state(deadline_seconds=2 * HOUR)
    answers = ("could not connect to GMI: ConnectionError", "GMI answered 429", "GMI answered 503")
    looks = 0
    while True:
        fakes.gmi.get_answers.append(GmiRetryableError(answers[looks % 3], status_code=None))
        result = service.poll_once(state)
        looks += 1
        if result.outcome != PollOutcome.WAITING:
            break
        assert clock.now < SUBMITTED_AT + 2 * HOUR  # waiting, never failed, while the deadline is ahead
        clock.now += result.next_wait_seconds
        state = state.model_copy(update={"poll": result})

    assert result.outcome == PollOutcome.TIMED_OUT
    assert clock.now >= SUBMITTED_AT + 2 * HOUR
    assert looks > 100  # it kept looking through the outage (backoff capped at max_wait_seconds)
    assert result.poll_count == looks
