"""Reconciliation: an ambiguous submission looked up in GMI's request list, so a job GMI did accept goes on.

Where it runs: the submit function. Recording a job `submit_ambiguous` also queues a `reconcile` message on
the submit queue, delayed by SETTLE_SECONDS (GMI's list may lag its POST); `i2v reconcile JOB` queues one
with `now` to look at once. Found: the job continues as submitted with GMI's request id (no second POST)
and its timeline gets `reconciled`. Not found after the settling period: it stays `submit_ambiguous`, and
its message says so (what `i2v retry` shows before it asks to submit again).

The submit service also looks (find_sent) before it POSTs again a job whose earlier POST drew a 503: GMI
may have created that job before it answered (README, Guarantees).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from i2v.domain.budgets import SpendReservation
from i2v.domain.gmi_answers import GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import FailureCategory, JobStatus, TransientError
from i2v.domain.metric_names import MetricName
from i2v.domain.reconciliation import Candidate, ListIncompleteError, NoTimeForListError, find_submission
from i2v.domain.record import JobRecord, iso, utc_now
from i2v.services.ports import (
    GmiPort,
    ImageStoragePort,
    JobRepositoryPort,
    MetricsSink,
    NullMetrics,
    Requeue,
)

logger = logging.getLogger(__name__)

# How long after an ambiguous POST, or one that drew a 503, GMI's list is read: long enough for GMI to list the
# request. The one settle window: the automatic reconciliation and the look before a POST after a 503 use it.
SETTLE_SECONDS = 120
RECONCILED = "reconciled"
# The request list is read page by page up to its `total`; past this many pages it is not read on (a GMI that
# ignored the page parameter would repeat its first page for ever): incomplete.
MAX_LIST_PAGES = 50


def _epoch(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


@dataclass
class Reconciler:
    repo: JobRepositoryPort
    gmi: GmiPort
    images: ImageStoragePort
    requeue: Requeue
    # Continues a job found at GMI exactly as after an accepted POST (Submitted event, workflow).
    continue_submitted: Callable[[JobRecord], None]
    # Dollar budgets (i2v.services.budget): the money of a job reconciled as not created goes back; a job found
    # after that is charged again (returns what it now holds, or None).
    not_created: Callable[[JobRecord], None] = lambda _job: None
    found_after_release: Callable[[JobRecord], SpendReservation | None] = lambda _job: None
    presign_ttl_seconds: int = 300
    metrics: MetricsSink = field(default_factory=NullMetrics)
    clock: Callable[[], float] = time.time

    @property
    def settle_seconds(self) -> int:
        return SETTLE_SECONDS

    def schedule(self, job_id: str) -> None:
        """Called when a job becomes `submit_ambiguous`: look for it once GMI's list has settled."""
        self.requeue({"kind": "reconcile", "job_id": job_id}, delay_seconds=SETTLE_SECONDS)

    def reconcile(self, job_id: str, now: bool = False) -> JobRecord | None:
        """Look for the job's request at GMI; the job as it is afterwards (None if it does not exist)."""
        job = self.repo.get(job_id)
        if job is None or job.status != JobStatus.SUBMIT_AMBIGUOUS:
            logger.info("job %s is %s: nothing to reconcile", job_id, job.status if job else "missing")
            return job
        ambiguous_at = _epoch(job.timestamps.get(JobStatus.SUBMIT_AMBIGUOUS)) or self.clock()
        settled_at = ambiguous_at + SETTLE_SECONDS
        if not now and self.clock() < settled_at:
            self.requeue({"kind": "reconcile", "job_id": job_id}, delay_seconds=math.ceil(settled_at - self.clock()))
            return job
        try:
            found = self._find(job, ambiguous_at)
        except ListIncompleteError as partial:
            # Not "not found": the rest of the list was never seen. An operator decides (retry may pay twice).
            self._note(job_id, f"GMI's request list could not be read whole ({partial}); check GMI for this job")
            logger.warning("ambiguous job %s: GMI's request list is incomplete (%s)", job_id, partial)
            return self.repo.get(job_id)
        if found is not None:
            return self.continue_with(job, found)
        if now or self.clock() >= settled_at:
            checked = iso(utc_now())
            self._note(
                job_id,
                f"not in GMI's request list as of {checked} (looked for this job's image among the requests "
                f"created while it was being sent); `i2v retry {job_id}` submits it again",
            )
            self.metrics.add_metric(MetricName.RECONCILE_NOT_FOUND, "Count", 1)
            self.not_created(job)
            logger.warning("ambiguous job %s is not in GMI's request list", job_id)
        return self.repo.get(job_id)

    def _note(self, job_id: str, message: str) -> None:
        """What the ambiguous job's failure says now (`i2v retry` shows it before asking to submit again)."""
        self.repo.annotate(
            job_id,
            {
                "failure": {"category": FailureCategory.SUBMIT_AMBIGUOUS.value, "message": message},
                "updated_at": iso(utc_now()),
            },
        )

    def _find(self, job: JobRecord, ambiguous_at: float) -> Candidate | None:
        sent_after = job.submit_started_at or _epoch(job.timestamps.get(JobStatus.SUBMITTING)) or ambiguous_at
        if job.post_503_since is not None:  # an earlier POST drew a 503: GMI may have created the job back then
            sent_after = min(sent_after, job.post_503_since)
        sent_before = max(job.submit_lease_until or ambiguous_at, ambiguous_at)
        try:
            return self.find_sent(job, sent_after, sent_before)
        except GmiRetryableError as error:
            raise TransientError(f"GMI's request list is unavailable: {error}") from None
        except GmiPermanentError as error:
            logger.warning("GMI refused the request list for job %s: %s", job.job_id, error)
            return None

    def find_sent(
        self, job: JobRecord, sent_after: float, sent_before: float, time_for_a_page: Callable[[], bool] = lambda: True
    ) -> Candidate | None:
        """The request GMI created for this job's image between those times (epoch seconds), None if it lists
        none. Raises GmiRetryableError (the list cannot be read now), GmiPermanentError (GMI refuses it),
        ListIncompleteError (it could not be read whole) or NoTimeForListError (`time_for_a_page` said no before
        a page): what that means is the caller's decision."""
        source = job.source
        # The same object address as the POST's URL (a new presigning changes only the query).
        image_url = self.images.presign_get(source.bucket, source.key, source.version_id, self.presign_ttl_seconds)
        candidates = [
            Candidate(request.request_id, request.status, request.created_at, request.payload or {})
            for request in self.listed(job.model, time_for_a_page)
        ]
        return find_submission(candidates, image_url, sent_after, sent_before)

    def listed(self, model: str, time_for_a_page: Callable[[], bool] = lambda: True) -> list[GmiRequest]:
        """Every request GMI lists for the model: page after page until `total` are seen (a request listed twice,
        the list having moved on between pages, counts once). Raises ListIncompleteError when the pages end
        before their total; when GMI gives no total, an empty page or one with nothing new ends the list."""
        seen: dict[str, GmiRequest] = {}
        for number in range(1, MAX_LIST_PAGES + 1):
            if not time_for_a_page():
                raise NoTimeForListError(f"stopped before page {number} of GMI's request list")
            page = self.gmi.list_requests(model, number)
            fresh = [request for request in page.requests if request.request_id not in seen]
            seen.update((request.request_id, request) for request in fresh)
            if page.total is not None and len(seen) >= page.total:
                return list(seen.values())
            if not fresh:
                if page.total is None:
                    return list(seen.values())
                raise ListIncompleteError(f"{len(seen)} of the {page.total} requests it counts were listed")
        raise ListIncompleteError(f"more than {MAX_LIST_PAGES} pages")

    def continue_with(self, job: JobRecord, found: Candidate) -> JobRecord:
        """The job (`submit_ambiguous`, or `submitting` after a 503) goes on with the request found at GMI."""
        job = self.repo.transition(
            job.job_id,
            JobStatus.SUBMITTED,
            {"request_id": found.request_id, "gmi_status": found.status},
            remove=("failure", "post_503_since", "post_503_last", "unavailable_since", "unavailable_looks"),
        )
        # The timeline mark: the job reached `submitted` through GMI's list, not through a POST answer.
        timestamps = {**job.timestamps, RECONCILED: iso(utc_now())}
        self.repo.annotate(job.job_id, {"timestamps": timestamps})
        job = job.model_copy(update={"timestamps": timestamps})
        charged = self.found_after_release(job)
        if charged is not None:
            self.repo.annotate(job.job_id, {"budget_reserved": charged.model_dump(mode="json")})
        self.metrics.add_metric(MetricName.SUBMISSIONS_RECONCILED, "Count", 1)
        logger.info("job %s found at GMI as request %s", job.job_id, found.request_id)
        self.continue_submitted(job)
        return job
