"""A POST that drew a 503, on fakes: GMI may have created the job before it answered, so the submit service
parks the job until GMI's list has settled (reconcile.SETTLE_SECONDS, the window reconciliation uses), then
reads every page of GMI's request list (the reconciliation matcher) before it POSTs that job again (the mark is
on the record). Refusals that provably reached nothing (429, no connection) are sent again without a look."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from i2v.domain.gmi_answers import GmiPermanentError, GmiRequest, GmiRetryableError, RequestPage
from i2v.domain.jobs import JobStatus, TransientError
from i2v.domain.record import iso
from i2v.domain.source import SourceObject, job_id_for
from i2v.services import reconcile
from i2v.services.submit import SubmitOutcome, SubmitService
from i2v.services.submit_gate import SubmitGate
from i2v_events.v1 import DetailType
from support.fakes import CreatedThenRefused, FakeBreaker, Fakes
from support.submit_service import NOW, Clock, job_of, submit_env, submit_service, upload

# A POST takes up to 13.05 s (connect + read) and 15 s are kept to record its answer: this is enough for a POST,
ONE_POST_MS = 30_000
# and this for a look at GMI's list before it too.
LOOK_AND_POST_MS = 45_000


def _service(
    fakes: Fakes, *, breaker: FakeBreaker | None = None, clock: Clock | None = None, time_left_ms: int = 600_000
) -> SubmitService:
    rng = random.Random(7)
    return submit_service(
        fakes,
        env=submit_env(DAILY_SUBMISSION_CAP="5"),
        gate=SubmitGate(breaker=breaker or FakeBreaker(), rng=rng),
        clock=clock,
        time_left_ms=time_left_ms,
        rng=rng,
    )


_upload = upload
_job = job_of


def _503() -> GmiRetryableError:
    return GmiRetryableError("GMI answered 503: busy", status_code=503)


def _created_then_503(created_at: float = NOW + 1) -> CreatedThenRefused:
    return CreatedThenRefused(_503(), created_at=created_at)


def _settled(clock: Clock) -> Clock:
    """The clock once GMI's list has settled after a POST sent at NOW (reconcile.SETTLE_SECONDS, the one window)."""
    clock.now = NOW + reconcile.SETTLE_SECONDS
    return clock


def _parked_after_a_503(fakes: Fakes, source: SourceObject, clock: Clock) -> str:
    """The first invocation: its POST draws a 503, the job is parked until GMI's list has settled."""
    result = _service(fakes, clock=clock).submit_source(source)
    assert result.outcome == SubmitOutcome.DEFERRED
    assert (len(fakes.gmi.submitted), fakes.gmi.list_calls) == (1, [])  # no look, no POST before the window
    job = _job(fakes, source)
    assert (job.status, job.post_503_since, job.post_503_last) == (JobStatus.DEFERRED, NOW, NOW)
    assert fakes.requeue.sent[-1] == ({"kind": "resume", "job_id": job.job_id}, reconcile.SETTLE_SECONDS)
    assert sum(fakes.repo.budget.values()) == 0  # GMI provably kept nothing of ours yet: the slot goes back
    return job.job_id


def test_a_job_gmi_created_before_answering_503_is_found_and_not_posted_again(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(_created_then_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.RECONCILED
    assert len(fakes.gmi.submitted) == 1  # paid once
    assert fakes.gmi.list_calls == ["pixverse-v5.5-i2v"]
    job = _job(fakes, source)
    (created,) = fakes.gmi.listed if isinstance(fakes.gmi.listed, list) else []
    assert (job.status, job.request_id) == (JobStatus.SUBMITTED, created.request_id)
    assert reconcile.RECONCILED in job.timestamps
    assert (job.post_503_since, job.post_503_last) == (None, None)
    assert fakes.publisher.detail_types() == [DetailType.SUBMITTED]
    assert list(fakes.workflow.started) == [f"{job.job_id}-1"]
    assert sum(fakes.repo.budget.values()) == 1  # the created job keeps its slot
    assert "SubmissionsReconciled" in fakes.metrics.names()


def test_a_503_with_nothing_created_is_looked_for_then_posted_again(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.SUBMITTED
    assert len(fakes.gmi.submitted) == 2
    assert len(fakes.gmi.list_calls) == 1  # one look, before the second POST
    job = _job(fakes, source)
    assert job.status == JobStatus.SUBMITTED
    assert reconcile.RECONCILED not in job.timestamps
    assert job.post_503_since is None  # submitted: the next attempt (an operator retry) starts clean
    assert sum(fakes.repo.budget.values()) == 1


def test_the_post_after_a_503_waits_for_the_settle_window_reconciliation_uses(fakes: Fakes) -> None:
    """Issue 24, defect 5: GMI's list may lag its POST by up to SETTLE_SECONDS; a look (and a POST) before that
    could miss the job GMI created and pay twice. Back early (a duplicate resume message): parked again for the
    rest of the window, with neither a look nor a POST."""
    fakes.gmi.submit_answers.append(_created_then_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)

    clock.now = NOW + reconcile.SETTLE_SECONDS - 30
    early = _service(fakes, clock=clock).resume_job(job_id)

    assert early.outcome == SubmitOutcome.DEFERRED
    assert (len(fakes.gmi.submitted), fakes.gmi.list_calls) == (1, [])
    body, delay = fakes.requeue.sent[-1]
    assert body == {"kind": "resume", "job_id": job_id}
    assert delay >= 30  # the rest of the window at least (the outage backoff may be longer)
    assert _service(fakes, clock=_settled(clock)).resume_job(job_id).outcome == SubmitOutcome.RECONCILED
    assert len(fakes.gmi.submitted) == 1


def test_a_second_503_restarts_the_settle_window_and_the_look_covers_both_posts(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.extend([_503(), _created_then_503(created_at=NOW + 200)])
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)
    clock.now = NOW + 199
    assert _service(fakes, clock=clock).resume_job(job_id).outcome == SubmitOutcome.DEFERRED  # 503 again
    job = _job(fakes, source)
    assert (job.post_503_since, job.post_503_last, len(fakes.gmi.list_calls)) == (NOW, NOW + 199, 1)

    clock.now = NOW + 199 + reconcile.SETTLE_SECONDS - 1
    assert _service(fakes, clock=clock).resume_job(job_id).outcome == SubmitOutcome.DEFERRED  # not settled yet
    clock.now += 1
    assert _service(fakes, clock=clock).resume_job(job_id).outcome == SubmitOutcome.RECONCILED

    assert len(fakes.gmi.submitted) == 2  # the second POST's job is the one GMI kept: no third POST


def test_the_look_after_a_503_reads_every_page_of_gmis_list(fakes: Fakes) -> None:
    """Issue 24, defect 5: GMI lists newest first, a page at a time; requests of other jobs created after ours
    push it to a later page. Reading only the first page would POST it again and pay twice."""
    fakes.gmi.list_page_size = 3
    fakes.gmi.submit_answers.append(_created_then_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)
    assert isinstance(fakes.gmi.listed, list)
    fakes.gmi.listed += [
        GmiRequest(
            request_id=f"req-other-{n}", status="queued", payload={"image": f"https://x/{n}.png"}, created_at=NOW + n
        )
        for n in range(2, 9)
    ]

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.RECONCILED
    assert len(fakes.gmi.submitted) == 1
    assert fakes.gmi.list_pages == [1, 2, 3]  # 8 requests, 3 a page


def test_a_list_that_ends_before_its_total_after_a_503_makes_the_job_ambiguous(fakes: Fakes) -> None:
    """GMI ignoring the page parameter (its first page again): the rest of the list is unknown, so neither
    "found" nor "not found" can be told. An operator decides; nothing is POSTed blind."""
    fakes.gmi.submit_answers.append(_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)
    first_page = [GmiRequest(request_id=f"req-{n}", status="queued", created_at=NOW + n) for n in range(3)]
    fakes.gmi.list_requests = lambda model_id, page=1: RequestPage(first_page, 7)  # type: ignore[method-assign]

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.AMBIGUOUS
    assert len(fakes.gmi.submitted) == 1
    job = _job(fakes, source)
    assert job.failure is not None
    assert "could not be read whole (3 of the 7 requests it counts were listed)" in job.failure.message


def test_a_request_of_another_image_or_from_before_the_post_is_not_taken_for_ours(fakes: Fakes) -> None:
    ours = "https://input-bucket.s3.example/incoming/cat.png?ttl=1"
    fakes.gmi.listed = [
        GmiRequest(request_id="req-old", status="success", payload={"image": ours}, created_at=NOW - 3600),
        GmiRequest(
            request_id="req-dog",
            status="queued",
            payload={"image": "https://input-bucket.s3.example/incoming/dog.png?ttl=1"},
            created_at=NOW,
        ),
    ]
    fakes.gmi.submit_answers.append(_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.SUBMITTED
    assert len(fakes.gmi.submitted) == 2
    assert _job(fakes, source).request_id not in {"req-old", "req-dog"}


@pytest.mark.parametrize(
    "refusal",
    [
        GmiRetryableError("GMI answered 429", status_code=429, retry_after=1),
        GmiRetryableError("could not connect to GMI: ConnectionError"),
    ],
    ids=["429", "never-connected"],
)
def test_refusals_that_created_nothing_are_sent_again_without_a_look(fakes: Fakes, refusal: Exception) -> None:
    fakes.gmi.submit_answers.append(refusal)
    source = _upload(fakes)

    assert _service(fakes).submit_source(source).outcome == SubmitOutcome.SUBMITTED

    assert len(fakes.gmi.submitted) == 2
    assert fakes.gmi.list_calls == []
    assert _job(fakes, source).post_503_since is None


def test_a_parked_job_looks_first_when_it_comes_back_in_a_later_invocation(fakes: Fakes) -> None:
    """The 503 is remembered on the record, not in memory: the invocation that parks the job is not the one
    that POSTs it again."""
    fakes.gmi.submit_answers.append(_created_then_503())
    source = _upload(fakes)
    clock = Clock()

    parked = _service(fakes, clock=clock, time_left_ms=ONE_POST_MS).submit_source(source)

    assert parked.outcome == SubmitOutcome.DEFERRED
    job = _job(fakes, source)
    assert (job.status, job.post_503_since) == (JobStatus.DEFERRED, NOW)
    assert job.failure is not None
    assert job.failure.category == "gmi_unavailable"
    assert fakes.gmi.list_calls == []  # no time left for a look: parked, nothing sent blind

    clock.now = NOW + 600
    result = _service(fakes, clock=clock, time_left_ms=LOOK_AND_POST_MS).resume_job(job.job_id)

    assert result.outcome == SubmitOutcome.RECONCILED
    assert len(fakes.gmi.submitted) == 1
    job = _job(fakes, source)
    assert job.status == JobStatus.SUBMITTED
    assert reconcile.RECONCILED in job.timestamps
    assert (job.failure, job.unavailable_since, job.post_503_since) == (None, None, None)


def test_a_parked_job_without_time_for_the_look_and_the_post_goes_back_untouched(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(_503())
    source = _upload(fakes)
    _service(fakes, time_left_ms=ONE_POST_MS).submit_source(source)
    job_id = job_id_for(source)

    with pytest.raises(TransientError, match="not enough time left"):
        _service(fakes, time_left_ms=ONE_POST_MS).resume_job(job_id)

    assert _job(fakes, source).status == JobStatus.DEFERRED
    assert (len(fakes.gmi.submitted), fakes.gmi.list_calls) == (1, [])


def test_an_unreadable_list_after_a_503_parks_the_job_instead_of_posting_blind(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(_created_then_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)
    fakes.gmi.listed = GmiRetryableError("GMI request list failed: ConnectionError")

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.DEFERRED
    assert len(fakes.gmi.submitted) == 1
    job = _job(fakes, source)
    assert (job.status, job.post_503_since, job.unavailable_looks) == (JobStatus.DEFERRED, NOW, 2)
    assert job.failure is not None
    assert job.failure.category == "gmi_unavailable"
    assert "request list is unavailable" in job.failure.message
    assert sum(fakes.repo.budget.values()) == 0
    assert fakes.requeue.sent[-1][0] == {"kind": "resume", "job_id": job.job_id}


def test_a_list_gmi_refuses_for_good_after_a_503_makes_the_job_ambiguous(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(_503())
    source = _upload(fakes)
    clock = Clock()
    job_id = _parked_after_a_503(fakes, source, clock)
    fakes.gmi.listed = GmiPermanentError("GMI answered 403: not allowed", status_code=403)

    result = _service(fakes, clock=_settled(clock)).resume_job(job_id)

    assert result.outcome == SubmitOutcome.AMBIGUOUS
    assert len(fakes.gmi.submitted) == 1
    job = _job(fakes, source)
    assert job.status == JobStatus.SUBMIT_AMBIGUOUS
    assert job.failure is not None
    assert "refused its request list" in job.failure.message


def test_with_the_breaker_open_a_parked_job_costs_neither_a_look_nor_a_post(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(_503())
    source = _upload(fakes)
    _service(fakes, time_left_ms=ONE_POST_MS).submit_source(source)
    breaker = FakeBreaker()
    breaker.open = True

    result = _service(fakes, breaker=breaker).resume_job(job_id_for(source))

    assert result.outcome == SubmitOutcome.DEFERRED
    assert (len(fakes.gmi.submitted), fakes.gmi.list_calls) == (1, [])
    assert _job(fakes, source).post_503_since == NOW


def test_an_ambiguous_job_after_an_earlier_503_is_looked_for_from_that_503_on(fakes: Fakes) -> None:
    """503 (GMI created the job), parked, then the next POST's answer is lost: the automatic reconciliation
    searches from the first POST, not only around the last one."""
    fakes.gmi.submit_answers.append(_created_then_503())
    source = _upload(fakes)
    clock = Clock()
    _service(fakes, clock=clock, time_left_ms=ONE_POST_MS).submit_source(source)
    job_id = job_id_for(source)
    # Two hours later the next POST is sent and its answer lost (what the service records for it).
    fakes.repo.transition(
        job_id, JobStatus.SUBMITTING, {"submit_started_at": NOW + 7200, "submit_lease_until": NOW + 7230}
    )
    job = fakes.repo.transition(job_id, JobStatus.SUBMIT_AMBIGUOUS)
    ambiguous_at = iso(datetime.fromtimestamp(NOW + 7230, UTC))
    fakes.repo.annotate(job_id, {"timestamps": {**job.timestamps, JobStatus.SUBMIT_AMBIGUOUS: ambiguous_at}})

    clock.now = NOW + 7230 + reconcile.SETTLE_SECONDS
    result = _service(fakes, clock=clock).reconcile_job(job_id)

    assert result.outcome == SubmitOutcome.RECONCILED
    assert len(fakes.gmi.submitted) == 1
    assert _job(fakes, source).post_503_since is None
