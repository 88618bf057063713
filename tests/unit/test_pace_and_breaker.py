"""The shared pace and the circuit breaker on a jobs table in moto (issue 11, items 10 and 11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from i2v.adapters.breaker import FAILURE_THRESHOLD, RECOVERY_TIMEOUT_SECONDS, GmiSubmitBreaker
from i2v.adapters.pacing import SubmitPace
from i2v.domain.gmi_answers import GmiAmbiguousError, GmiRequest, GmiRetryableError
from i2v.domain.pacing import CircuitOpenError
from i2v_local.timewarp import breaker_clock
from support.breaker import fresh_breaker_counters
from support.jobs_table import moto_jobs_table

NOW = 1_800_000_000.0


@pytest.fixture
def table() -> Iterator[str]:
    with moto_jobs_table() as name:
        yield name


@pytest.fixture(autouse=True)
def _fresh_breaker() -> None:
    fresh_breaker_counters()


def test_turns_are_one_interval_apart_across_invocations(table: str) -> None:
    first, second = SubmitPace(table), SubmitPace(table)  # two invocations, one item
    slots = [pace.take_turn(NOW, 60).slot_at for pace in (first, second, first, second)]
    assert slots == [NOW, NOW + 1, NOW + 2, NOW + 3]


def test_an_idle_pace_banks_no_turns(table: str) -> None:
    pace = SubmitPace(table)
    pace.take_turn(NOW, 60)
    assert pace.take_turn(NOW + 600, 60).slot_at == NOW + 600
    assert pace.take_turn(NOW + 600, 60).slot_at == NOW + 601


def test_a_turn_taken_in_between_is_read_again(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Optimistic writes: another invocation taking a turn between our read and write loses us nothing."""
    pace, rival = SubmitPace(table), SubmitPace(table)
    real_get = pace._db.get_item  # the one cached client both use
    raced: list[float] = []
    racing = [True]

    def get_then_race(**kwargs: object) -> object:
        answer = real_get(**kwargs)
        if racing[0]:
            racing[0] = False
            raced.append(rival.take_turn(NOW, 60).slot_at)
        return answer

    monkeypatch.setattr(pace._db, "get_item", get_then_race)
    assert pace.take_turn(NOW, 60).slot_at == NOW + 1
    assert raced == [NOW]


class _Gmi:
    def __init__(self) -> None:
        self.down = True
        self.posts = 0

    def submit(self) -> GmiRequest:
        self.posts += 1
        if self.down:
            raise GmiRetryableError("GMI answered 503", status_code=503)
        return GmiRequest(request_id="req-1", status="queued")


def test_the_breaker_opens_after_refusals_in_a_row_probes_once_per_window_and_closes(table: str) -> None:
    now = [NOW]
    gmi, breaker = _Gmi(), GmiSubmitBreaker(table)
    with breaker_clock(lambda: now[0]):
        for _ in range(FAILURE_THRESHOLD):
            with pytest.raises(GmiRetryableError):
                breaker.call(gmi.submit)
        assert breaker.is_open()
        for _ in range(10):  # an outage: every look is cut short, nothing is sent
            with pytest.raises(CircuitOpenError):
                breaker.call(gmi.submit)
        assert gmi.posts == FAILURE_THRESHOLD

        now[0] += RECOVERY_TIMEOUT_SECONDS
        assert not breaker.is_open()  # due for a probe
        with pytest.raises(GmiRetryableError):
            breaker.call(gmi.submit)  # the probe: still down, open again
        assert breaker.is_open()
        assert gmi.posts == FAILURE_THRESHOLD + 1

        gmi.down = False
        now[0] += RECOVERY_TIMEOUT_SECONDS
        assert breaker.call(gmi.submit).request_id == "req-1"
        assert not breaker.is_open()
        assert breaker.call(gmi.submit).request_id == "req-1"


def test_an_ambiguous_answer_is_not_an_outage(table: str) -> None:
    breaker = GmiSubmitBreaker(table)

    def unclear() -> GmiRequest:
        raise GmiAmbiguousError("GMI did not answer the submission in time")

    with breaker_clock(lambda: NOW):
        for _ in range(FAILURE_THRESHOLD + 2):
            with pytest.raises(GmiAmbiguousError):
                breaker.call(unclear)
        assert not breaker.is_open()
