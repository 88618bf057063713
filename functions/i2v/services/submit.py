"""Submit use case: validate, claim, budget, presign, POST once, start the workflow.

The flow of one job, in one place; its parts live beside it: the checks (submit_validation), what may hold the job
back (submit_gate decides, submit_hold records), the POST and its retries (submission), the look in GMI's list
(reconcile) and the execution start (submit_start).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from i2v.domain.budgets import BudgetAction, SpendReservation
from i2v.domain.claims import TransitionRejectedError
from i2v.domain.gmi_answers import GmiPermanentError
from i2v.domain.jobs import Failure, FailureCategory, JobFailedError, JobStatus, TransientError
from i2v.domain.manifest import ManifestLine
from i2v.domain.metric_names import MetricName
from i2v.domain.options import SubmitOptions
from i2v.domain.pricing import JobPrice
from i2v.domain.record import JobRecord, ManifestLineRef, SourceRef, iso, utc_now
from i2v.domain.redaction import redact
from i2v.domain.settings import JobSettings
from i2v.domain.source import SourceObject, job_id_for, padded_sequencer
from i2v.services.budget import DollarBudgets
from i2v.services.manifest_tally import end_job_line
from i2v.services.metrics import announce_failure, count_job_end
from i2v.services.ports import (
    GmiPort,
    ImageStoragePort,
    JobRepositoryPort,
    ManifestSummaryPort,
    MetricsSink,
    NoSpendMetrics,
    NullMetrics,
    PublisherPort,
    Requeue,
    SpendMetricsPort,
    WorkflowPort,
)
from i2v.services.pricing import price_job
from i2v.services.submission import (
    Accepted,
    FoundEarlier,
    OutOfTime,
    Park,
    Refused,
    Submission,
    Unclear,
    WaitTurn,
    post_needs_ms,
)
from i2v.services.submit_gate import SubmitGate
from i2v.services.submit_hold import Holds
from i2v.services.submit_result import ENDED_BY_SUBMIT, SubmitOutcome, SubmitResult
from i2v.services.submit_start import ExecutionStart
from i2v.services.submit_validation import SubmitValidation

if TYPE_CHECKING:
    from i2v.services.reconcile import Reconciler

__all__ = ["SubmitOutcome", "SubmitResult", "SubmitService"]

logger = logging.getLogger(__name__)

# Clock skew allowance between Lambda instances when judging another instance's submission lease.
LEASE_MARGIN_SECONDS = 5.0


@dataclass
class SubmitService:
    options: SubmitOptions
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
    spend_metrics: SpendMetricsPort = field(default_factory=NoSpendMetrics)
    # Manifest summaries: a manifest line's job that ends here is counted (None: not counted, e.g. in tests).
    manifests: ManifestSummaryPort | None = None
    _budget_day: str | None = field(default=None, init=False)
    _reservation: SpendReservation | None = field(default=None, init=False)  # the job's money (dollar budgets)

    # ---- entry points -------------------------------------------------------------------------------------
    def submit_source(self, source: SourceObject, line: ManifestLine | None = None) -> SubmitResult:
        """An upload's job; with `line`, a manifest line's (the line's settings kept on the record)."""
        job = self._new_job(source)
        if line is not None:
            job = job.model_copy(update={"manifest_line": ManifestLineRef.of(line), "line_settings": line.settings})
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

    def reconcile_job(self, job_id: str, now: bool = False) -> SubmitResult:
        """A `reconcile` message: the delayed automatic look, or `i2v reconcile` (now=True)."""
        job = self.reconciler.reconcile(job_id, now=now)
        if job is not None and job.status == JobStatus.SUBMITTED:
            return SubmitResult(SubmitOutcome.RECONCILED, job_id, job.status)
        return SubmitResult(SubmitOutcome.AMBIGUOUS, job_id, job.status if job else None)

    # ---- the parts (built per use: tests and the handler replace clock, sleep, options, time_left_ms) --------
    @property
    def holds(self) -> Holds:
        return Holds(self.repo, self.requeue, self.metrics, self.gate, self.clock)

    @property
    def budgets(self) -> DollarBudgets:
        return DollarBudgets(self.options, self.repo, self.spend_metrics)

    @property
    def starter(self) -> ExecutionStart:
        return ExecutionStart(self.options, self.repo, self.publisher, self.workflow, self.clock)

    @property
    def reconciler(self) -> Reconciler:
        # Imported here: only ambiguous submissions and 503s need it, and every cold start would pay for it.
        from i2v.services.reconcile import Reconciler

        return Reconciler(
            repo=self.repo,
            gmi=self.gmi,
            images=self.images,
            requeue=self.requeue,
            continue_submitted=lambda job: self.starter.announce_and_start(job, job.gmi_status),
            not_created=self.budgets.give_back_held,
            found_after_release=lambda job: self.budgets.charge_found(job, self._today()),
            presign_ttl_seconds=self.options.presign_ttl_seconds,
            metrics=self.metrics,
            clock=self.clock,
        )

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
            self.starter.announce_and_start(job, job.gmi_status)
            return SubmitResult(SubmitOutcome.RESUMED, job.job_id, job.status)
        if job.status in ENDED_BY_SUBMIT and job.announced != job.status:
            # Recorded, but the Failed event never went out (PutEvents failed, the invocation died): send it now.
            self._announce_failure(job)
        logger.info("duplicate event for job %s (status %s): nothing to do", job.job_id, job.status)
        self.metrics.add_metric(MetricName.DUPLICATES_SKIPPED, "Count", 1)
        return SubmitResult(SubmitOutcome.DUPLICATE, job.job_id, job.status)

    def _process(self, job: JobRecord) -> SubmitResult:
        try:
            source, settings, end_frame, sidecar = SubmitValidation(self.options, self.images).validate(job)
        except JobFailedError as rejection:
            return self._end(job, JobStatus.REJECTED, rejection.failure)
        if sidecar is not None and job.sidecar is None:
            # Pinned once its settings were found valid: a deferral or a retry reads this version again.
            self.repo.annotate(job.job_id, {"sidecar": sidecar.model_dump(mode="json")})
        try:
            self.gmi.check_credentials()
        except GmiPermanentError as missing:
            # Failing here (not inside the POST) keeps the job clear of `submit_ambiguous`: nothing was sent.
            return self._end(
                job, JobStatus.FAILED, Failure(category=FailureCategory.GMI_UNAUTHORIZED, message=str(missing))
            )
        price = price_job(settings, self.options.gmi_prices, self.gmi)  # issue 25: the price, before anything is sent
        unpriced = self.budgets.unpriced_refusal(job, price)
        if unpriced is not None:
            return self._end(job, JobStatus.REJECTED, unpriced)
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
                self.holds.wait_turn(job, turn)
                return self._deferred(job)
            self.sleep(turn.wait_seconds)
        over = self._take_budget(job, price)
        if over is not None:
            if self.options.budget_exceeded_action == BudgetAction.DEFER:
                self.holds.defer_for_budget(job, over)
                return self._deferred(job)
            return self._end(job, JobStatus.REJECTED, Failure(category=FailureCategory.BUDGET, message=over))
        held = self._reservation
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
                    **({"budget_reserved": held.model_dump(mode="json")} if held else {}),
                    **({"end_frame": end_frame.model_dump(mode="json")} if end_frame else {}),
                },
                remove=(
                    "failure",
                    "request_id",
                    "gmi_status",
                    "execution_name",
                    "pace_slot_at",
                    *price.stale_fields(),
                    *(() if held else ("budget_reserved",)),
                    *(() if end_frame else ("end_frame",)),
                ),
            )
        except TransitionRejectedError as lost_race:
            logger.info("job %s is being handled elsewhere (%s)", job.job_id, lost_race.current)
            self._give_back_budget()
            return SubmitResult(SubmitOutcome.DUPLICATE, job.job_id, str(lost_race.current))
        return self._post(job, source, settings, end_frame)

    def _today(self) -> datetime:
        return datetime.now(UTC)

    def _take_budget(self, job: JobRecord, price: JobPrice) -> str | None:
        """The count cap's slot, then the dollar budgets' money: None when both are taken, else why not."""
        today, self._reservation = self._today(), None
        taken, self._budget_day = self.holds.take_budget(self.options.daily_submission_cap, today)
        if not taken:
            return f"daily submission cap of {self.options.daily_submission_cap} reached"
        check = self.budgets.reserve(job, price, today)
        self._reservation = check.reservation
        if check.over is not None:
            self._give_back_budget()
        return check.over

    def _give_back_budget(self, job_id: str | None = None) -> None:
        """Both back (`job_id`: the job's record holds the money, given back only while it does)."""
        self.holds.give_back_budget(self.options.daily_submission_cap, self._budget_day)
        self.budgets.give_back(self._reservation, job_id)
        self._budget_day, self._reservation = None, None

    def _keep_budget(self) -> None:
        self._budget_day, self._reservation = None, None

    def _post_needs_ms(self, job: JobRecord) -> int:
        return post_needs_ms(job, self.options.gmi_timeout_seconds)

    def _deferred(self, job: JobRecord) -> SubmitResult:
        return SubmitResult(SubmitOutcome.DEFERRED, job.job_id, JobStatus.DEFERRED)

    def _park(self, job: JobRecord, reason: str, not_before: float | None = None) -> SubmitResult:
        gave_up = self.holds.park(job, reason, not_before)
        return self._end(job, JobStatus.FAILED, gave_up) if gave_up else self._deferred(job)

    def _presign(self, ref: SourceRef) -> str:
        return self.images.presign_get(ref.bucket, ref.key, ref.version_id, self.options.presign_ttl_seconds)

    def _post(
        self, job: JobRecord, source: SourceRef, settings: JobSettings, end_frame: SourceRef | None
    ) -> SubmitResult:
        submission = Submission(
            gmi=self.gmi,
            gate=self.gate,
            repo=self.repo,
            metrics=self.metrics,
            presign=self._presign,
            # Both through the reconciler, built (and its module loaded) only when a 503 needs it.
            find_sent=lambda *args: self.reconciler.find_sent(*args),  # noqa: PLW0108
            settle_seconds=lambda: self.reconciler.settle_seconds,
            gmi_timeout_seconds=self.options.gmi_timeout_seconds,
            time_left_ms=self.time_left_ms,
            sleep=self.sleep,
            rng=self.rng,
            clock=self.clock,
        )
        outcome = submission.post(job, source, settings, end_frame)
        job = outcome.job
        if isinstance(outcome, Accepted):
            return self._accepted(job, outcome)
        if isinstance(outcome, FoundEarlier):
            self._keep_budget()  # the job GMI created keeps its budget slot and money
            job = self.reconciler.continue_with(job, outcome.found)
            return SubmitResult(SubmitOutcome.RECONCILED, job.job_id, job.status)
        if isinstance(outcome, Unclear):
            self._keep_budget()  # GMI may have it: it counts until reconciled as not created
            return self._ambiguous(job, outcome.reason)
        self._give_back_budget(job.job_id)  # GMI took nothing: the slot and the money go back
        if isinstance(outcome, Park):
            return self._park(job, outcome.reason, outcome.not_before)
        if isinstance(outcome, OutOfTime):
            # Nothing was sent: `submitting -> received` is the safe retry, and the message comes back.
            self.repo.transition(job.job_id, JobStatus.RECEIVED, remove=("submit_lease_until",))
            raise TransientError(f"not enough time left to submit job {job.job_id}; it comes back")
        if isinstance(outcome, WaitTurn):
            self.holds.wait_turn(job, self.gate.turn(job, self.clock()))
            return self._deferred(job)
        assert isinstance(outcome, Refused)
        return self._end(job, JobStatus.FAILED, outcome.failure)

    def _accepted(self, job: JobRecord, accepted: Accepted) -> SubmitResult:
        response = accepted.response
        job = self.repo.transition(
            job.job_id,
            JobStatus.SUBMITTED,
            {"request_id": response.request_id, "gmi_status": response.status},
            remove=("unavailable_since", "unavailable_looks", "post_503_since", "post_503_last"),
        )
        self._keep_budget()
        self.metrics.add_metric(MetricName.JOBS_SUBMITTED, "Count", 1)
        self.starter.announce_and_start(job, response.status)
        return SubmitResult(SubmitOutcome.SUBMITTED, job.job_id, job.status)

    def _ambiguous(self, job: JobRecord, reason: str) -> SubmitResult:
        message = redact(
            f"{reason}; GMI may have accepted (and billed) a job. GMI's request list is searched for it once it "
            f"has settled; `i2v reconcile {job.job_id}` searches now (`i2v retry` only if it is not there)"
        )
        failure = Failure(category=FailureCategory.SUBMIT_AMBIGUOUS, message=message)
        self.metrics.add_metric(MetricName.SUBMIT_AMBIGUOUS, "Count", 1)
        logger.error("ambiguous submission for job %s: %s", job.job_id, reason)
        result = self._end(job, JobStatus.SUBMIT_AMBIGUOUS, failure)
        if result.outcome == SubmitOutcome.AMBIGUOUS:
            self.reconciler.schedule(job.job_id)
        return result

    def _end(self, job: JobRecord, status: JobStatus, failure: Failure) -> SubmitResult:
        try:
            job = self.repo.transition(job.job_id, status, {"failure": failure.model_dump(mode="json")})
        except TransitionRejectedError as lost_race:
            return SubmitResult(SubmitOutcome.DUPLICATE, job.job_id, str(lost_race.current))
        count_job_end(self.metrics, job)
        end_job_line(self.manifests, self.publisher, job)
        self._announce_failure(job)
        outcome = {
            JobStatus.REJECTED: SubmitOutcome.REJECTED,
            JobStatus.SUBMIT_AMBIGUOUS: SubmitOutcome.AMBIGUOUS,
        }.get(status, SubmitOutcome.FAILED)
        return SubmitResult(outcome, job.job_id, status)

    def _announce_failure(self, job: JobRecord) -> None:
        announce_failure(self.publisher, self.repo, job)
