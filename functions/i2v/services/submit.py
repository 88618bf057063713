# Long file: the one submit flow (claim, checks, pace and breaker, POST, every outcome) reads best in one place
"""Submit use case: validate, claim, budget, presign, POST once, start the workflow."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from i2v.adapters.gmi import GmiAmbiguousError, GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.adapters.repository import TransitionRejectedError
from i2v.config import BudgetAction, SubmitEnv
from i2v.domain import catalog
from i2v.domain.image_check import CONTENT_TYPES, SNIFF_BYTES, describe_unsupported, detect_image_format
from i2v.domain.jobs import Failure, FailureCategory, JobFailedError, JobStatus, TransientError
from i2v.domain.pacing import CircuitOpenError
from i2v.domain.polling import learn_expectation, next_wait_seconds
from i2v.domain.record import EventDetailType, JobRecord, SourceRef, iso, submitted_detail, utc_now
from i2v.domain.redaction import redact
from i2v.domain.settings import InvalidSettingsError, JobSettings, resolve_settings
from i2v.domain.source import SourceObject, job_id_for, padded_sequencer, relative_key
from i2v.domain.workflow import ExecutionInput
from i2v.services.metrics import MetricName, announce_failure, count_job_end
from i2v.services.ports import (
    GmiPort,
    ImageStoragePort,
    JobRepositoryPort,
    MetricsSink,
    NullMetrics,
    PublisherPort,
    Requeue,
    WorkflowPort,
)
from i2v.services.pricing import price_job
from i2v.services.submit_gate import SubmitGate, Turn

if TYPE_CHECKING:
    from i2v.services.reconcile import Reconciler

logger = logging.getLogger(__name__)

POST_ATTEMPTS = 4
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 20.0
# Leave this much of the invocation for recording the outcome after the last POST attempt.
RESERVE_MS = 15_000
CONNECT_TIMEOUT_MS = 3_050  # GMI client's connect timeout; the read timeout is GMI_TIMEOUT_SECONDS
# Clock skew allowance between Lambda instances when judging another instance's submission lease.
LEASE_MARGIN_SECONDS = 5.0


# Statuses the submit function itself ends a job in (and announces).
ENDED_BY_SUBMIT = frozenset({JobStatus.REJECTED, JobStatus.FAILED, JobStatus.SUBMIT_AMBIGUOUS})


class SubmitOutcome(StrEnum):
    SUBMITTED = "submitted"
    RESUMED = "resumed"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    AMBIGUOUS = "ambiguous"
    RECONCILED = "reconciled"
    FAILED = "failed"


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    job_id: str | None
    status: str | None = None


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


@dataclass
class SubmitService:
    env: SubmitEnv
    repo: JobRepositoryPort
    images: ImageStoragePort
    gmi: GmiPort
    publisher: PublisherPort
    workflow: WorkflowPort
    requeue: Requeue
    metrics: MetricsSink = field(default_factory=NullMetrics)
    time_left_ms: Callable[[], int] = lambda: 600_000
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.time
    # Pace, circuit breaker and outage patience (issue 11); the default neither paces nor breaks.
    gate: SubmitGate = field(default_factory=SubmitGate)
    _budget_day: str | None = field(default=None, init=False)

    # ---- entry points -------------------------------------------------------------------------------------
    def submit_source(self, source: SourceObject) -> SubmitResult:
        job = self._new_job(source)
        claim = self.repo.claim(job, padded_sequencer(source.sequencer))
        if claim.outcome == "superseded":
            logger.info("older version of %s ignored: a newer upload is already known", source.key)
            self.metrics.add_metric(MetricName.SUPERSEDED_EVENTS_SKIPPED, "Count", 1)
            return SubmitResult(SubmitOutcome.SUPERSEDED, job.job_id)
        if claim.outcome == "duplicate" and claim.job is not None:
            return self._resume(claim.job)
        return self._process(job)

    def resume_job(self, job_id: str) -> SubmitResult:
        """A deferred job coming back, or an operator retry (the CLI has already reset it to received)."""
        job = self.repo.get(job_id)
        if job is None:
            raise JobFailedError(FailureCategory.INTERNAL, f"job {job_id} does not exist")
        return self._resume(job)

    # ---- steps --------------------------------------------------------------------------------------------
    def _new_job(self, source: SourceObject) -> JobRecord:
        now = iso(utc_now())
        return JobRecord(
            job_id=job_id_for(source),
            status=JobStatus.RECEIVED,
            source=SourceRef.of(source),
            model=self.gmi.model,
            timestamps={JobStatus.RECEIVED: now},
            created_at=now,
            updated_at=now,
        )

    def _resume(self, job: JobRecord) -> SubmitResult:
        if job.status in (JobStatus.RECEIVED, JobStatus.DEFERRED):
            return self._process(job)
        if job.status == JobStatus.SUBMITTING:
            if job.submit_lease_until is not None and self.clock() < job.submit_lease_until + LEASE_MARGIN_SECONDS:
                # Another invocation (a duplicate delivery) is still inside its POST: look again once it is over.
                logger.info("job %s is being submitted by another invocation; will look again", job.job_id)
                raise TransientError(f"job {job.job_id} is being submitted by another invocation")
            # The invocation that decided to POST is over: GMI may have a paid job we never heard of.
            return self._ambiguous(job, "the submission was interrupted before GMI's answer was recorded")
        if job.status == JobStatus.SUBMITTED and not job.execution_name:
            self._announce_and_start(job, job.gmi_status)
            return SubmitResult(SubmitOutcome.RESUMED, job.job_id, job.status)
        if job.status in ENDED_BY_SUBMIT and job.announced != job.status:
            # Recorded, but the Failed event never went out (PutEvents failed, the invocation died): send it now.
            self._announce_failure(job)
        logger.info("duplicate event for job %s (status %s): nothing to do", job.job_id, job.status)
        self.metrics.add_metric(MetricName.DUPLICATES_SKIPPED, "Count", 1)
        return SubmitResult(SubmitOutcome.DUPLICATE, job.job_id, job.status)

    def _process(self, job: JobRecord) -> SubmitResult:
        try:
            source, settings, end_frame = self._validate(job)
        except JobFailedError as rejection:
            return self._end(job, JobStatus.REJECTED, rejection.failure)
        try:
            self.gmi.check_credentials()
        except GmiPermanentError as missing:
            # Failing here (not inside the POST) keeps the job clear of `submit_ambiguous`: nothing was sent.
            return self._end(
                job, JobStatus.FAILED, Failure(category=FailureCategory.GMI_UNAUTHORIZED, message=str(missing))
            )
        price = price_job(settings, self.env.gmi_prices, self.gmi)  # issue 25: the price, before anything is sent
        if self.time_left_ms() < self._post_needs_ms(job):
            # Too little of the invocation left to POST and record GMI's answer: the record goes back to the
            # queue untouched rather than risk being killed mid-POST (submit_ambiguous).
            raise TransientError(f"not enough time left to submit job {job.job_id}; it comes back")
        if self.gate.breaker.is_open():
            # One look: GMI refused submissions a moment ago. Wait without a turn, a budget slot or a POST.
            return self._park(job, "GMI is refusing submissions (circuit breaker open)")
        turn = self.gate.turn(job, self.clock())
        if not turn.now:
            seconds_left = (self.time_left_ms() - self._post_needs_ms(job)) / 1000
            if not self.gate.sleep_inline(turn, seconds_left):
                return self._wait_turn(job, turn)
            self.sleep(turn.wait_seconds)
        if not self._take_budget(job):
            if self.env.budget_exceeded_action == BudgetAction.DEFER:
                return self._defer(job)
            message = f"daily submission cap of {self.env.daily_submission_cap} reached"
            return self._end(job, JobStatus.REJECTED, Failure(category=FailureCategory.BUDGET, message=message))
        try:
            job = self.repo.transition(
                job.job_id,
                JobStatus.SUBMITTING,
                # The lease: this invocation ends by then; a job still `submitting` after it was abandoned.
                {
                    "model": settings.model_id,  # the job's catalog model (deployment default, preset or metadata)
                    "settings": settings.as_record(),
                    "source": source.model_dump(mode="json"),
                    "submit_lease_until": self.clock() + self.time_left_ms() / 1000,
                    "submit_started_at": self.clock(),
                    **price.record_fields(),
                    **({"end_frame": end_frame.model_dump(mode="json")} if end_frame else {}),
                },
                remove=(
                    "failure",
                    "request_id",
                    "gmi_status",
                    "execution_name",
                    "pace_slot_at",
                    *price.stale_fields(),
                    *(() if end_frame else ("end_frame",)),
                ),
            )
        except TransitionRejectedError as lost_race:
            logger.info("job %s is being handled elsewhere (%s)", job.job_id, lost_race.current)
            self._give_back_budget()
            return SubmitResult(SubmitOutcome.DUPLICATE, job.job_id, str(lost_race.current))
        return self._post(job, source, settings, end_frame)

    def _validate(self, job: JobRecord) -> tuple[SourceRef, JobSettings, SourceRef | None]:
        src = job.source
        info = self.images.head(src.bucket, src.key, src.version_id)
        if info is None or (src.version_id and self.images.is_deleted(src.bucket, src.key)):
            raise JobFailedError(FailureCategory.SOURCE_MISSING, "the image no longer exists")
        content_type = self._check_image(src.bucket, src.key, src.version_id, info.size, "the image")
        try:
            settings = resolve_settings(
                info.metadata,
                relative_key(src.key, self.env.input_prefix),
                self.env.prefix_presets,
                self.env.default_settings,
                self.env.gmi_model_id,
            )
        except InvalidSettingsError as error:
            raise JobFailedError(FailureCategory.INVALID_SETTINGS, str(error)) from None
        checked = src.model_copy(update={"size": info.size, "content_type": content_type})
        end_frame = self._end_frame(src.bucket, settings) if settings.end_frame_key else None
        return checked, settings, end_frame

    def _check_image(self, bucket: str, key: str, version_id: str | None, size: int, what: str) -> str:
        """Size and format checks shared by the source and the end frame; returns the content type."""
        if size <= 0:
            raise JobFailedError(FailureCategory.EMPTY_IMAGE, f"{what} is empty (0 bytes)")
        if size > self.env.max_image_bytes:
            raise JobFailedError(
                FailureCategory.IMAGE_TOO_LARGE, f"{what} is {size} bytes; the limit is {self.env.max_image_bytes}"
            )
        head = self.images.first_bytes(bucket, key, version_id, SNIFF_BYTES)
        image_format = detect_image_format(head)
        if image_format is None:
            unsupported = describe_unsupported(head)
            raise JobFailedError(
                FailureCategory.UNSUPPORTED_FORMAT, unsupported if what == "the image" else f"{what}: {unsupported}"
            )
        return CONTENT_TYPES[image_format]

    def _end_frame(self, bucket: str, settings: JobSettings) -> SourceRef:
        """The object named by metadata `end_frame`: under END_FRAME_PREFIX of the input bucket, checked like the
        source and pinned to the version seen now."""
        key = settings.end_frame_key or ""
        prefix = self.env.end_frame_prefix
        if not key.startswith(prefix) or ".." in key.split("/"):
            message = f"end_frame {key!r} must be a key under {prefix!r} in the input bucket"
            raise JobFailedError(FailureCategory.INVALID_SETTINGS, message)
        info = self.images.head(bucket, key, None)
        if info is None:
            raise JobFailedError(FailureCategory.INVALID_SETTINGS, f"end_frame {key!r} does not exist in the bucket")
        what = f"the end frame {key!r}"
        content_type = self._check_image(bucket, key, info.version_id, info.size, what)
        return SourceRef(
            bucket=bucket,
            key=key,
            version_id=info.version_id,
            etag=info.etag,
            size=info.size,
            content_type=content_type,
        )

    def _today(self) -> datetime:
        return datetime.now(UTC)

    def _take_budget(self, job: JobRecord) -> bool:
        if self.env.daily_submission_cap <= 0:
            return True
        today = self._today()
        expires = int((today + timedelta(days=3)).timestamp())
        day = today.strftime("%Y-%m-%d")
        taken = self.repo.consume_budget(day, self.env.daily_submission_cap, expires)
        self._budget_day = day if taken else None
        return taken

    def _give_back_budget(self) -> None:
        # The day it was taken from: a refusal after UTC midnight gives back yesterday's slot.
        if self.env.daily_submission_cap > 0 and self._budget_day is not None:
            self.repo.release_budget(self._budget_day)
        self._budget_day = None

    def _post_needs_ms(self, job: JobRecord) -> int:
        """The longest one POST can take (after a 503, with the look at GMI's list before it), plus room to record
        its answer."""
        one_call_ms = CONNECT_TIMEOUT_MS + int(self.env.gmi_timeout_seconds * 1000)
        return one_call_ms * (2 if job.post_503_since is not None else 1) + RESERVE_MS

    def _wait_turn(self, job: JobRecord, turn: Turn) -> SubmitResult:
        """Over the pace: wait for the turn reserved for it, on the queue (a fresh delayed message)."""
        self.repo.transition(job.job_id, JobStatus.DEFERRED, {"pace_slot_at": turn.slot_at})
        self.metrics.add_metric(MetricName.SUBMISSIONS_PACED, "Count", 1)
        self.requeue({"kind": "resume", "job_id": job.job_id}, delay_seconds=self.gate.defer_delay(turn))
        return SubmitResult(SubmitOutcome.DEFERRED, job.job_id, JobStatus.DEFERRED)

    def _park(self, job: JobRecord, reason: str) -> SubmitResult:
        """GMI provably took nothing: park the job, look again later through a fresh delayed message (receive
        counts never run out), give up after the patience."""
        parking = self.gate.park(job, self.clock())
        if parking.give_up:
            hours = self.gate.patience_seconds / 3600
            message = f"GMI accepted no submission for {hours:g} h: {reason}"
            return self._end(job, JobStatus.FAILED, Failure(category=FailureCategory.GMI_UNAVAILABLE, message=message))
        self.repo.transition(job.job_id, JobStatus.DEFERRED, parking.fields(redact(reason)), remove=("pace_slot_at",))
        self.metrics.add_metric(MetricName.SUBMISSIONS_PARKED, "Count", 1)
        logger.warning("GMI unavailable for job %s (%s); next look in %ds", job.job_id, reason, parking.delay_seconds)
        self.requeue({"kind": "resume", "job_id": job.job_id}, delay_seconds=parking.delay_seconds)
        return SubmitResult(SubmitOutcome.DEFERRED, job.job_id, JobStatus.DEFERRED)

    def _defer(self, job: JobRecord) -> SubmitResult:
        if job.status != JobStatus.DEFERRED:
            message = f"daily submission cap of {self.env.daily_submission_cap} reached; waiting for the next day"
            self.repo.transition(
                job.job_id, JobStatus.DEFERRED, {"failure": {"category": "budget", "message": message}}
            )
            self.metrics.add_metric(MetricName.SUBMISSIONS_DEFERRED, "Count", 1)
        self.requeue({"kind": "resume", "job_id": job.job_id}, delay_seconds=900)
        return SubmitResult(SubmitOutcome.DEFERRED, job.job_id, JobStatus.DEFERRED)

    def _presign(self, ref: SourceRef) -> str:
        return self.images.presign_get(ref.bucket, ref.key, ref.version_id, self.env.presign_ttl_seconds)

    def _post(
        self, job: JobRecord, source: SourceRef, settings: JobSettings, end_frame: SourceRef | None
    ) -> SubmitResult:
        for attempt in range(POST_ATTEMPTS):
            if job.post_503_since is not None:
                looked = self._look_for_earlier_post(job, job.post_503_since)
                if looked is not None:
                    return looked
            # Presigned right before each POST so the URL lives as long after it as its TTL allows.
            end_frame_url = self._presign(end_frame) if end_frame else None
            payload = settings.settings.payload(self._presign(source), end_frame_url)
            sent_at = self.clock()
            try:
                response = self.gate.breaker.call(functools.partial(self.gmi.submit, payload, model=settings.model_id))
            except CircuitOpenError:
                self._give_back_budget()
                return self._park(job, "GMI is refusing submissions (circuit breaker open)")
            except GmiRetryableError as refused:
                if refused.status_code is not None and refused.status_code >= 500 and job.post_503_since is None:
                    # The request reached GMI, which may have created the job before it answered 503 (README,
                    # Guarantees). On the record, so a later invocation (a parked job) looks before it POSTs too.
                    self.repo.annotate(job.job_id, {"post_503_since": sent_at})
                    job = job.model_copy(update={"post_503_since": sent_at})
                if refused.status_code == 429 and self.gate.paced:
                    # Over GMI's rate despite the pace: queue up again behind the turns already given out
                    # (an immediate retry would take the turn of another job).
                    self._give_back_budget()
                    return self._wait_turn(job, self.gate.turn(job, self.clock()))
                delay = retry_delay(attempt, refused.retry_after, self.rng)
                if attempt + 1 >= POST_ATTEMPTS or self.time_left_ms() - delay * 1000 < self._post_needs_ms(job):
                    self._give_back_budget()
                    return self._park(job, str(refused))
                logger.warning("GMI refused the submission (%s); retrying in %.1fs", refused, delay)
                self.metrics.add_metric(MetricName.SUBMIT_RETRIES, "Count", 1)
                self.sleep(delay)
                continue
            except GmiPermanentError as refused:
                self._give_back_budget()
                category = GMI_FAILURES.get(refused.status_code or 400, FailureCategory.GMI_REJECTED)
                return self._end(job, JobStatus.FAILED, Failure(category=category, message=str(refused)))
            except GmiAmbiguousError as unclear:
                return self._ambiguous(job, str(unclear))
            return self._accepted(job, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _look_for_earlier_post(self, job: JobRecord, since: float) -> SubmitResult | None:
        """Before POSTing again after a 503: the job GMI created anyway, if its request list shows one (then the
        job goes on with it, timeline `reconciled`, no second POST); None when it does not (POST again)."""
        try:
            found = self.reconciler.find_sent(job, sent_after=since, sent_before=self.clock())
        except GmiRetryableError as unreadable:
            # GMI down as far as we can tell: ride it out like a refused POST; a blind POST could pay twice.
            self._give_back_budget()
            return self._park(job, f"GMI's request list is unavailable after a 503 ({unreadable})")
        except GmiPermanentError as refused:
            return self._ambiguous(job, f"GMI answered 503 to a POST and refused its request list ({refused})")
        if found is None:
            logger.info("job %s is not in GMI's request list after a 503: POSTing again", job.job_id)
            return None
        self._budget_day = None  # the job GMI created keeps the budget slot
        job = self.reconciler.continue_with(job, found)
        return SubmitResult(SubmitOutcome.RECONCILED, job.job_id, job.status)

    def _accepted(self, job: JobRecord, response: GmiRequest) -> SubmitResult:
        job = self.repo.transition(
            job.job_id,
            JobStatus.SUBMITTED,
            {"request_id": response.request_id, "gmi_status": response.status},
            remove=("unavailable_since", "unavailable_looks", "post_503_since"),
        )
        self._budget_day = None
        self.metrics.add_metric(MetricName.JOBS_SUBMITTED, "Count", 1)
        self._announce_and_start(job, response.status)
        return SubmitResult(SubmitOutcome.SUBMITTED, job.job_id, job.status)

    def _announce_and_start(self, job: JobRecord, gmi_status: str | None) -> None:
        self.publisher.publish(EventDetailType.SUBMITTED, submitted_detail(job))
        name = f"{job.job_id}-{job.attempt}"
        self.workflow.start(name, self._execution_input(job, gmi_status).model_dump(mode="json"))
        self.repo.annotate(job.job_id, {"execution_name": name})

    def _execution_input(self, job: JobRecord, gmi_status: str | None) -> ExecutionInput:
        if job.request_id is None:  # only SUBMITTED jobs get here, and those always have one
            raise JobFailedError(FailureCategory.INTERNAL, f"job {job.job_id} has no GMI request id")
        policy = self.env.poll_policy
        time_class = catalog.time_class_of(job.model, job.settings)
        expectation = learn_expectation(self.repo.recent_generation_seconds(job.model, time_class), policy)
        if expectation is None:  # a class not yet seen min_samples times: the model's other classes, a wider window
            expectation = learn_expectation(self.repo.recent_generation_seconds(job.model, None), policy)
        now = self.clock()
        return ExecutionInput.first(
            job_id=job.job_id,
            attempt=job.attempt,
            request_id=job.request_id,
            model=job.model,
            time_class=time_class,
            submitted_at=now,
            deadline_at=now + self.env.job_deadline_seconds,
            gmi_status=gmi_status,
            expectation=expectation,
            first_wait_seconds=next_wait_seconds(0, policy, expectation),
        )

    def _ambiguous(self, job: JobRecord, reason: str) -> SubmitResult:
        message = redact(
            f"{reason}; GMI may have accepted (and billed) a job. Check GMI, then `i2v retry {job.job_id}`"
        )
        failure = Failure(category=FailureCategory.SUBMIT_AMBIGUOUS, message=message)
        self.metrics.add_metric(MetricName.SUBMIT_AMBIGUOUS, "Count", 1)
        logger.error("ambiguous submission for job %s: %s", job.job_id, reason)
        result = self._end(job, JobStatus.SUBMIT_AMBIGUOUS, failure)
        if result.outcome == SubmitOutcome.AMBIGUOUS:
            self.reconciler.schedule(job.job_id)
        return result

    @property
    def reconciler(self) -> Reconciler:
        # Imported here: only ambiguous submissions and 503s need it, and every cold start would pay for it.
        from i2v.services.reconcile import Reconciler

        return Reconciler(
            repo=self.repo,
            gmi=self.gmi,
            images=self.images,
            requeue=self.requeue,
            continue_submitted=lambda job: self._announce_and_start(job, job.gmi_status),
            presign_ttl_seconds=self.env.presign_ttl_seconds,
            metrics=self.metrics,
            clock=self.clock,
        )

    def reconcile_job(self, job_id: str, now: bool = False) -> SubmitResult:
        """A `reconcile` message: the delayed automatic look, or `i2v reconcile` (now=True)."""
        job = self.reconciler.reconcile(job_id, now=now)
        if job is not None and job.status == JobStatus.SUBMITTED:
            return SubmitResult(SubmitOutcome.RECONCILED, job_id, job.status)
        return SubmitResult(SubmitOutcome.AMBIGUOUS, job_id, job.status if job else None)

    def _end(self, job: JobRecord, status: JobStatus, failure: Failure) -> SubmitResult:
        try:
            job = self.repo.transition(job.job_id, status, {"failure": failure.model_dump(mode="json")})
        except TransitionRejectedError as lost_race:
            return SubmitResult(SubmitOutcome.DUPLICATE, job.job_id, str(lost_race.current))
        count_job_end(self.metrics, job)
        self._announce_failure(job)
        outcome = {
            JobStatus.REJECTED: SubmitOutcome.REJECTED,
            JobStatus.SUBMIT_AMBIGUOUS: SubmitOutcome.AMBIGUOUS,
        }.get(status, SubmitOutcome.FAILED)
        return SubmitResult(outcome, job.job_id, status)

    def _announce_failure(self, job: JobRecord) -> None:
        announce_failure(self.publisher, self.repo, job)
