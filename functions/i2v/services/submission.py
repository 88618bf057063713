"""Submission: the POST of one job that is `submitting`, its retries, and the look in GMI's list after a 503.

It decides nothing about the record beyond the 503 mark: it returns what happened (`PostOutcome`) and the submit
service records it (submitted, parked, waiting its turn, failed, ambiguous, found at GMI).
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from i2v.domain.gmi_answers import CONNECT_TIMEOUT, GmiAmbiguousError, GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import Failure, FailureCategory
from i2v.domain.metric_names import MetricName
from i2v.domain.pacing import CircuitOpenError
from i2v.domain.reconciliation import Candidate, ListIncompleteError, NoTimeForListError
from i2v.domain.record import JobRecord, SourceRef
from i2v.domain.settings import JobSettings
from i2v.services.ports import GmiPort, JobRepositoryPort, MetricsSink
from i2v.services.submit_gate import SubmitGate

logger = logging.getLogger(__name__)

POST_ATTEMPTS = 4
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 20.0
# Leave this much of the invocation for recording the outcome after the last POST attempt.
RESERVE_MS = 15_000
CONNECT_TIMEOUT_MS = round(CONNECT_TIMEOUT * 1000)  # the GMI client's; the read timeout is GMI_TIMEOUT_SECONDS

GMI_FAILURES = {
    400: FailureCategory.GMI_REJECTED,
    401: FailureCategory.GMI_UNAUTHORIZED,
    403: FailureCategory.GMI_UNAUTHORIZED,
    404: FailureCategory.GMI_NOT_FOUND,
}


def retry_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Retry-After when GMI gives one (plus jitter so a burst does not return in lockstep), else full jitter."""
    if retry_after is not None:
        return min(RETRY_CAP_SECONDS * 3, retry_after) + rng.uniform(0, 1.0)
    return rng.uniform(0, min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**attempt))


def post_needs_ms(job: JobRecord | None, gmi_timeout_seconds: float) -> int:
    """The longest one POST can take (connect + read timeout) plus room to record its answer; with a job marked
    by a 503, one call more for the look at GMI's list before it (the estimate before the gate; the POST itself
    is checked again right before it is sent, with `job=None`)."""
    one_call_ms = CONNECT_TIMEOUT_MS + int(gmi_timeout_seconds * 1000)
    look = job is not None and job.post_503_since is not None
    return one_call_ms * (2 if look else 1) + RESERVE_MS


# ---- what a submission can end in (the submit service records each) ----------------------------------------
@dataclass(frozen=True)
class Accepted:
    job: JobRecord
    response: GmiRequest


@dataclass(frozen=True)
class Park:
    """GMI provably took nothing (refused, breaker open, its list unreadable after a 503): ride it out, and after a
    503 not before GMI's list has settled (`not_before`, epoch seconds)."""

    job: JobRecord
    reason: str
    not_before: float | None = None


@dataclass(frozen=True)
class OutOfTime:
    """Too little of the invocation left to POST and record the answer: nothing was sent."""

    job: JobRecord


@dataclass(frozen=True)
class WaitTurn:
    """Over GMI's rate despite the pace: queue up again behind the turns already given out."""

    job: JobRecord


@dataclass(frozen=True)
class Refused:
    """GMI refused the job itself (400/401/403/404...): sending it again cannot help."""

    job: JobRecord
    failure: Failure


@dataclass(frozen=True)
class Unclear:
    """GMI may have created (and billed) the job: ambiguous."""

    job: JobRecord
    reason: str


@dataclass(frozen=True)
class FoundEarlier:
    """After a 503: GMI's list shows the job it created anyway (no second POST)."""

    job: JobRecord
    found: Candidate


PostOutcome = Accepted | Park | OutOfTime | WaitTurn | Refused | Unclear | FoundEarlier


@dataclass
class Submission:
    gmi: GmiPort
    gate: SubmitGate
    repo: JobRepositoryPort
    metrics: MetricsSink
    presign: Callable[[SourceRef], str]
    # The reconciliation matcher: the request GMI created for the job between two times, or None; the last
    # argument says, before each page of GMI's list, whether the invocation still has time for it.
    find_sent: Callable[[JobRecord, float, float, Callable[[], bool]], Candidate | None]
    # How long GMI's list may lag a POST (reconcile.SETTLE_SECONDS, read when needed: reconcile loads lazily).
    settle_seconds: Callable[[], float]
    gmi_timeout_seconds: float
    time_left_ms: Callable[[], int]
    sleep: Callable[[float], None]
    rng: random.Random
    clock: Callable[[], float]

    def post(
        self, job: JobRecord, source: SourceRef, settings: JobSettings, end_frame: SourceRef | None
    ) -> PostOutcome:
        for attempt in range(POST_ATTEMPTS):
            if job.post_503_since is not None:
                looked = self._look_for_earlier_post(job, job.post_503_since)
                if looked is not None:
                    return looked
            # Presigned right before each POST so the URL lives as long after it as its TTL allows.
            end_frame_url = self.presign(end_frame) if end_frame else None
            payload = settings.settings.payload(self.presign(source), end_frame_url)
            if self.time_left_ms() < self.needs_ms(None):
                # The last thing before the POST: the gate's AWS calls (each retried) and the look ran since the
                # first check, and a POST cut off by the invocation's end is a job that may be paid but unknown.
                return OutOfTime(job)
            sent_at = self.clock()
            try:
                response = self.gate.breaker.call(functools.partial(self.gmi.submit, payload, model=settings.model_id))
            except CircuitOpenError:
                return Park(job, "GMI is refusing submissions (circuit breaker open)")
            except GmiRetryableError as refused:
                if refused.status_code is not None and refused.status_code >= 500:
                    # The request reached GMI, which may have created the job before it answered 503 (README,
                    # Guarantees). On the record, so a later invocation (a parked job) looks before it POSTs too:
                    # once GMI's list has settled after this POST, so the job waits parked until then.
                    marks = {"post_503_since": job.post_503_since or sent_at, "post_503_last": sent_at}
                    self.repo.annotate(job.job_id, marks)
                    job = job.model_copy(update=marks)
                    return Park(job, str(refused), not_before=sent_at + self.settle_seconds())
                if refused.status_code == 429 and self.gate.paced:
                    # An immediate retry would take the turn of another job.
                    return WaitTurn(job)
                delay = retry_delay(attempt, refused.retry_after, self.rng)
                if attempt + 1 >= POST_ATTEMPTS or self.time_left_ms() - delay * 1000 < self.needs_ms(job):
                    return Park(job, str(refused))
                logger.warning("GMI refused the submission (%s); retrying in %.1fs", refused, delay)
                self.metrics.add_metric(MetricName.SUBMIT_RETRIES, "Count", 1)
                self.sleep(delay)
                continue
            except GmiPermanentError as refused:
                category = GMI_FAILURES.get(refused.status_code or 400, FailureCategory.GMI_REJECTED)
                return Refused(job, Failure(category=category, message=str(refused)))
            except GmiAmbiguousError as unclear:
                return Unclear(job, str(unclear))
            return Accepted(job, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def needs_ms(self, job: JobRecord | None) -> int:
        return post_needs_ms(job, self.gmi_timeout_seconds)

    def _look_for_earlier_post(self, job: JobRecord, since: float) -> PostOutcome | None:
        """Before POSTing again after a 503, once GMI's list has settled after the last such POST: the job GMI
        created anyway, if any page of its request list shows one (then the job goes on with it, timeline
        `reconciled`, no second POST); None when it does not (POST again)."""
        settled_at = (job.post_503_last or since) + self.settle_seconds()
        if self.clock() < settled_at:
            # A list read now may not show the job that POST created yet: wait, parked, for the settle window.
            return Park(job, "GMI answered 503; its request list is read once it has settled", settled_at)
        # Time for one more page and for the POST after it: the invocation must never end inside the look.
        one_call_ms = CONNECT_TIMEOUT_MS + int(self.gmi_timeout_seconds * 1000)
        try:
            found = self.find_sent(
                job, since, self.clock(), lambda: self.time_left_ms() >= one_call_ms + self.needs_ms(None)
            )
        except NoTimeForListError:
            return OutOfTime(job)
        except GmiRetryableError as unreadable:
            # GMI down as far as we can tell: ride it out like a refused POST; a blind POST could pay twice.
            return Park(job, f"GMI's request list is unavailable after a 503 ({unreadable})")
        except GmiPermanentError as refused:
            return Unclear(job, f"GMI answered 503 to a POST and refused its request list ({refused})")
        except ListIncompleteError as partial:
            return Unclear(job, f"GMI answered 503 to a POST and its request list could not be read whole ({partial})")
        if found is None:
            logger.info("job %s is not in GMI's request list after a 503: POSTing again", job.job_id)
            return None
        return FoundEarlier(job, found)
