"""Reconciliation reads every page of GMI's request list (issue 24, defect 5), on fakes.

GMI answers `{"requests": [...], "total": n}` (the SDK's ListUserRequestsResponse) and documents no paging
parameter; the client asks for `page` 1, 2, ... and the reconciler reads on until it has seen `total` requests.
A list that ends before its total is not "not found": the job stays ambiguous, saying the list was incomplete.
"""

from __future__ import annotations

from i2v.domain.gmi_answers import RequestPage
from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord
from support.fakes import Fakes
from unit.services.test_answers_services import IMAGE, JOB_ID, MODEL, NOW, _ambiguous_job, _listed, _reconciler


def _newer_requests(count: int) -> list:  # type: ignore[type-arg]
    return [_listed(f"other-{n}", f"https://in.s3.example/incoming/other-{n}.png", NOW - 100 + n) for n in range(count)]


def test_the_job_on_a_later_page_is_found(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    fakes.gmi.list_page_size = 4
    fakes.gmi.listed = [_listed("ours", IMAGE + "?X-Amz-Signature=s", NOW - 198), *_newer_requests(9)]
    continued: list[JobRecord] = []

    job = _reconciler(fakes, continued).reconcile(JOB_ID)

    assert job is not None
    assert (job.status, job.request_id) == (JobStatus.SUBMITTED, "ours")
    assert fakes.gmi.list_pages == [1, 2, 3]  # 10 requests, 4 a page: ours, the oldest, is on the third
    assert [j.request_id for j in continued] == ["ours"]


def test_a_list_that_ends_before_its_total_is_not_taken_for_not_found(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    first = _newer_requests(3)
    fakes.gmi.list_requests = lambda model_id, page=1: RequestPage(first, 40)  # type: ignore[method-assign]

    job = _reconciler(fakes, []).reconcile(JOB_ID)

    assert job is not None
    assert job.status == JobStatus.SUBMIT_AMBIGUOUS
    assert job.failure is not None
    assert job.failure.message.startswith("GMI's request list could not be read whole (3 of the 40 requests")
    assert "ReconcileNotFound" not in fakes.metrics.names()


def test_a_request_listed_twice_as_the_list_moves_on_counts_once(fakes: Fakes) -> None:
    """A request created between two page reads pushes the list down: the next page repeats one already seen."""
    _ambiguous_job(fakes)
    ours = _listed("ours", IMAGE + "?X-Amz-Signature=s", NOW - 198)
    a, b, c = _newer_requests(3)
    pages = {1: [c, b], 2: [b, a], 3: [ours]}
    fakes.gmi.list_requests = lambda model_id, page=1: RequestPage(pages.get(page, []), 4)  # type: ignore[method-assign]

    job = _reconciler(fakes, []).reconcile(JOB_ID)

    assert job is not None
    assert (job.status, job.request_id) == (JobStatus.SUBMITTED, "ours")


def test_the_list_of_one_model_is_asked_for(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    _reconciler(fakes, []).reconcile(JOB_ID)
    assert fakes.gmi.list_calls == [MODEL]
