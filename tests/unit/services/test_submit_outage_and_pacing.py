"""Issue 11 on the submit service, on fakes: the time check before a POST (item 3), outage riding (item 10) and
pacing (item 11). The real pace and breaker adapters are tested on moto in tests/unit/test_pace_and_breaker.py."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from i2v.domain.gmi_answers import GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import JobStatus, TransientError
from i2v.domain.source import job_id_for
from i2v.services.submit import SubmitOutcome, SubmitService
from i2v.services.submit_gate import SubmitGate
from i2v_events.v1 import DetailType
from support.fakes import FakeBreaker, FakePace, Fakes
from support.submit_service import NOW, Clock, job_of, submit_env, submit_service, upload

T = TypeVar("T")


def _service(
    fakes: Fakes,
    *,
    breaker: FakeBreaker | None = None,
    pace: FakePace | None = None,
    rate: int = 0,
    patience: int = 86400,
    clock: Clock | None = None,
    time_left_ms: int = 600_000,
    **env: str,
) -> tuple[SubmitService, list[float]]:
    slept: list[float] = []
    rng = random.Random(7)
    gate = SubmitGate(
        breaker=breaker or FakeBreaker(), pace=pace, rate_per_minute=rate, patience_seconds=patience, rng=rng
    )
    service = submit_service(
        fakes, env=submit_env(**env), gate=gate, clock=clock, time_left_ms=time_left_ms, sleep=slept.append, rng=rng
    )
    return service, slept


_upload = upload
_job = job_of


def _refusals(n: int) -> list[Exception]:
    # 429s: refusals that provably created nothing, so they are retried in the invocation before the job parks (a
    # 503 parks it at once until GMI's list has settled: test_submit_after_a_503.py).
    return [GmiRetryableError("GMI answered 429", status_code=429) for _ in range(n)]


# ---- item 3: the time check before a POST ------------------------------------------------------------------


def test_a_record_without_time_for_a_post_goes_back_untouched(fakes: Fakes) -> None:
    pace = FakePace()
    # A POST may take connect (3.05 s) + read (10 s) and 15 s are kept to record the answer: 20 s is too little.
    service, _ = _service(fakes, pace=pace, rate=60, time_left_ms=20_000, DAILY_SUBMISSION_CAP="5")
    source = _upload(fakes)

    with pytest.raises(TransientError, match="not enough time left"):
        service.submit_source(source)

    assert _job(fakes, source).status == JobStatus.RECEIVED  # never `submitting`
    assert fakes.gmi.submitted == []
    assert pace.turns == []
    assert sum(fakes.repo.budget.values()) == 0


def test_a_retry_that_would_outlast_the_invocation_is_not_started(fakes: Fakes) -> None:
    """After a refusal, the next POST is tried only if it (not just the wait before it) fits."""
    fakes.gmi.submit_answers.append(GmiRetryableError("GMI answered 429", status_code=429, retry_after=5))
    service, slept = _service(fakes, time_left_ms=30_000)  # enough for one POST, not for 5 s + another
    source = _upload(fakes)

    result = service.submit_source(source)

    assert result.outcome == SubmitOutcome.DEFERRED
    assert len(fakes.gmi.submitted) == 1
    assert slept == []


class Invocation:
    """The invocation's time left (what Lambda's context answers), spent by every AWS call the service makes: a
    throttled DynamoDB write, retried up to five times by botocore, takes seconds."""

    def __init__(self, left_ms: int) -> None:
        self.left_ms = left_ms

    def __call__(self) -> int:
        return self.left_ms

    def slows(self, monkeypatch: pytest.MonkeyPatch, target: object, name: str, ms: int) -> None:
        real = getattr(target, name)

        def slow(*args: object, **kwargs: object) -> object:
            self.left_ms -= ms
            return real(*args, **kwargs)

        monkeypatch.setattr(target, name, slow)


def test_the_time_left_is_checked_last_before_the_post(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24, defect 9: the breaker read, the pace turn, the budget and the state change run after the first
    check. With too little left for the POST (connect + read timeout + the writes after it) it is not started:
    the job goes back to `received` (nothing was sent: the safe retry) and its message comes back."""
    breaker, pace = FakeBreaker(), FakePace()
    service, _ = _service(fakes, breaker=breaker, pace=pace, rate=60, DAILY_SUBMISSION_CAP="5")
    invocation = Invocation(31_000)  # enough for one POST (28 050 ms) before the AWS calls, not after them
    service.time_left_ms = invocation
    for target, name in ((breaker, "is_open"), (pace, "take_turn"), (fakes.repo, "consume_budget")):
        invocation.slows(monkeypatch, target, name, 1_000)
    invocation.slows(monkeypatch, fakes.repo, "transition", 2_500)
    source = _upload(fakes)

    with pytest.raises(TransientError, match="not enough time left"):
        service.submit_source(source)

    assert fakes.gmi.submitted == []
    job = _job(fakes, source)
    assert job.status == JobStatus.RECEIVED
    assert sum(fakes.repo.budget.values()) == 0  # the slot went back
    invocation.left_ms = 600_000  # the message back, in an invocation with time enough
    assert service.submit_source(source).outcome == SubmitOutcome.SUBMITTED


def test_a_slow_look_at_gmis_list_leaves_no_time_for_the_post_after_it(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes.gmi.submit_answers.append(GmiRetryableError("GMI answered 503", status_code=503))
    clock = Clock()
    service, _ = _service(fakes, clock=clock)
    source = _upload(fakes)
    assert service.submit_source(source).outcome == SubmitOutcome.DEFERRED  # parked until the list settles
    clock.now += 600
    invocation = Invocation(60_000)
    service.time_left_ms = invocation
    invocation.slows(monkeypatch, fakes.gmi, "list_requests", 40_000)  # a slow list: connect + read, pages

    with pytest.raises(TransientError, match="not enough time left"):
        service.resume_job(job_id_for(source))

    assert (len(fakes.gmi.submitted), len(fakes.gmi.list_calls)) == (1, 1)
    assert _job(fakes, source).status == JobStatus.RECEIVED


# ---- item 10: outage riding --------------------------------------------------------------------------------


def test_a_post_refused_every_time_parks_the_job_and_gives_the_budget_back(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.extend(_refusals(4))
    service, _ = _service(fakes, DAILY_SUBMISSION_CAP="5")
    source = _upload(fakes)

    result = service.submit_source(source)

    assert result.outcome == SubmitOutcome.DEFERRED
    job = _job(fakes, source)
    assert job.status == JobStatus.DEFERRED
    assert job.failure is not None
    assert job.failure.category == "gmi_unavailable"
    assert (job.unavailable_since, job.unavailable_looks) == (NOW, 1)
    ((body, delay),) = fakes.requeue.sent  # a fresh delayed message: no receive count is used up
    assert body == {"kind": "resume", "job_id": job.job_id}
    assert 15 <= delay <= 30
    assert sum(fakes.repo.budget.values()) == 0
    assert fakes.publisher.detail_types() == []  # waiting is not failing
    assert "SubmissionsParked" in fakes.metrics.names()


def test_an_open_breaker_costs_one_look_no_turn_no_budget_no_post(fakes: Fakes) -> None:
    breaker, pace = FakeBreaker(), FakePace()
    breaker.open = True
    service, _ = _service(fakes, breaker=breaker, pace=pace, rate=60, DAILY_SUBMISSION_CAP="5")
    source = _upload(fakes)

    assert service.submit_source(source).outcome == SubmitOutcome.DEFERRED

    assert breaker.looks == 1
    assert fakes.gmi.submitted == []
    assert pace.turns == []
    assert fakes.repo.budget == {}
    assert _job(fakes, source).failure is not None


def test_parked_jobs_look_again_later_and_later_then_fail_after_the_patience(fakes: Fakes) -> None:
    breaker, clock = FakeBreaker(), Clock()
    breaker.open = True
    service, _ = _service(fakes, breaker=breaker, clock=clock, patience=3600)
    source = _upload(fakes)
    service.submit_source(source)

    delays = [fakes.requeue.sent[-1][1]]
    while _job(fakes, source).status == JobStatus.DEFERRED:
        clock.now += delays[-1]
        service.resume_job(job_id_for(source))
        if _job(fakes, source).status == JobStatus.DEFERRED:
            delays.append(fakes.requeue.sent[-1][1])

    job = _job(fakes, source)
    assert job.status == JobStatus.FAILED
    assert job.failure is not None
    assert job.failure.category == "gmi_unavailable"
    assert job.failure.message.startswith("GMI accepted no submission for 1 h")
    assert 3600 <= clock.now - NOW < 3600 + 900
    ceilings = [min(900, 30 * 2**n) for n in range(len(delays))]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays  # growing, jittered
    assert fakes.gmi.submitted == []
    assert fakes.publisher.detail_types() == [DetailType.FAILED]


def test_once_gmi_accepts_again_the_parked_job_is_submitted_and_its_outage_marks_cleared(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.extend(_refusals(4))
    service, _ = _service(fakes)
    source = _upload(fakes)
    service.submit_source(source)

    assert service.resume_job(job_id_for(source)).outcome == SubmitOutcome.SUBMITTED

    job = _job(fakes, source)
    assert job.status == JobStatus.SUBMITTED
    assert (job.failure, job.unavailable_since, job.unavailable_looks) == (None, None, 0)
    assert len(fakes.gmi.submitted) == 5


def test_a_permanent_refusal_is_not_an_outage(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(GmiPermanentError("GMI answered 400", status_code=400))
    service, _ = _service(fakes)
    source = _upload(fakes)
    assert service.submit_source(source).outcome == SubmitOutcome.FAILED
    assert _job(fakes, source).failure is not None
    assert fakes.requeue.sent == []


# ---- item 11: pacing ---------------------------------------------------------------------------------------


def test_over_the_pace_a_job_waits_its_turn_on_the_queue_then_keeps_it(fakes: Fakes) -> None:
    pace, clock = FakePace(next_free_at=NOW + 100), Clock()
    service, _ = _service(fakes, pace=pace, rate=60, clock=clock)
    source = _upload(fakes)

    assert service.submit_source(source).outcome == SubmitOutcome.DEFERRED
    job = _job(fakes, source)
    assert (job.status, job.pace_slot_at, job.failure) == (JobStatus.DEFERRED, NOW + 100, None)
    ((_, delay),) = fakes.requeue.sent
    assert 100 <= delay <= 101
    assert fakes.gmi.submitted == []

    clock.now = NOW + 100  # the delayed message comes back at its turn
    assert service.resume_job(job.job_id).outcome == SubmitOutcome.SUBMITTED
    assert len(pace.turns) == 1  # the reserved turn was used, no second one taken
    assert _job(fakes, source).pace_slot_at is None


def test_a_turn_this_close_is_slept_inside_the_invocation(fakes: Fakes) -> None:
    service, slept = _service(fakes, pace=FakePace(next_free_at=NOW + 3), rate=60)
    assert service.submit_source(_upload(fakes)).outcome == SubmitOutcome.SUBMITTED
    assert slept == [3.0]
    assert fakes.requeue.sent == []


def test_consecutive_uploads_get_consecutive_turns(fakes: Fakes) -> None:
    pace = FakePace()
    service, _ = _service(fakes, pace=pace, rate=30)  # one every 2 s
    results = [service.submit_source(_upload(fakes, f"incoming/{n}.png")).outcome for n in range(6)]
    assert [turn.slot_at - NOW for turn in pace.turns] == [0, 2, 4, 6, 8, 10]
    assert results == [SubmitOutcome.SUBMITTED] * 3 + [SubmitOutcome.DEFERRED] * 3  # within 5 s: slept inline


# ---- item 6: the budget across UTC midnight ----------------------------------------------------------------


def test_a_refusal_after_midnight_gives_back_the_slot_of_the_day_it_was_taken_from(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes.gmi.submit_answers.append(GmiPermanentError("GMI answered 400", status_code=400))
    service, _ = _service(fakes, DAILY_SUBMISSION_CAP="5")
    days = iter([datetime(2026, 3, 14, 23, 59, 59, tzinfo=UTC), datetime(2026, 3, 15, 0, 0, 1, tzinfo=UTC)])
    monkeypatch.setattr(service, "_today", lambda: next(days, datetime(2026, 3, 15, tzinfo=UTC) + timedelta(1)))

    assert service.submit_source(_upload(fakes)).outcome == SubmitOutcome.FAILED
    assert fakes.repo.budget == {"2026-03-14": 0}


def test_the_look_after_a_503_stops_between_pages_when_the_invocation_runs_short(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long list read page by page must not run into the invocation's end (killed mid-look, the job would be
    left `submitting` and end ambiguous): before each page there must be time for it and for the POST after it."""
    fakes.gmi.submit_answers.append(GmiRetryableError("GMI answered 503", status_code=503))
    fakes.gmi.list_page_size = 1
    clock = Clock()
    service, _ = _service(fakes, clock=clock)
    source = _upload(fakes)
    assert service.submit_source(source).outcome == SubmitOutcome.DEFERRED
    assert isinstance(fakes.gmi.listed, list)
    fakes.gmi.listed += [
        GmiRequest(request_id=f"req-{n}", status="queued", created_at=NOW + n, payload={}) for n in range(1, 6)
    ]
    clock.now += 600
    invocation = Invocation(80_000)
    service.time_left_ms = invocation
    invocation.slows(monkeypatch, fakes.gmi, "list_requests", 15_000)

    with pytest.raises(TransientError, match="not enough time left"):
        service.resume_job(job_id_for(source))

    # 80, 65, 50 s left: a page (13.05 s) and the POST after it (28.05 s) fit; 35 s: no (6 pages in all)
    assert fakes.gmi.list_pages == [1, 2, 3]
    assert len(fakes.gmi.submitted) == 1
    assert _job(fakes, source).status == JobStatus.RECEIVED
