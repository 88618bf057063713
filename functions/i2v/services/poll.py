"""Poll use case: one look at the GMI request, a record update when its status changed, and when to look again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from i2v.domain.claims import TransitionRejectedError
from i2v.domain.gmi_answers import NOT_STARTED, GmiPermanentError, GmiRetryableError, GmiStatus, parse_status
from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.polling import (
    PollOutcome,
    PollPolicy,
    classify_gmi_status,
    error_backoff_seconds,
    next_wait_seconds,
    wait_before_deadline,
    wait_inline,
)
from i2v.domain.workflow import PollResult, PollState
from i2v.services.ports import GmiPort, JobRepositoryPort, MetricsSink, NullMetrics

logger = logging.getLogger(__name__)

INVOCATION_RESERVE_SECONDS = 20
IMAGE_FETCH_HINTS = ("image_url", "fetch", "download image", "image could not")


def failure_category_for(status: str, message: str) -> FailureCategory:
    lowered = message.lower()
    if parse_status(status) == GmiStatus.CANCELLED:
        return FailureCategory.GMI_CANCELLED
    if any(hint in lowered for hint in IMAGE_FETCH_HINTS):
        return FailureCategory.IMAGE_UNREACHABLE
    return FailureCategory.GMI_FAILED


@dataclass
class PollService:
    repo: JobRepositoryPort
    gmi: GmiPort
    policy: PollPolicy
    metrics: MetricsSink = field(default_factory=NullMetrics)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def poll(self, state: PollState, time_left_ms: Callable[[], int] = lambda: 900_000) -> PollResult:
        """Look, and while the next look is due soon (policy.wait_inline), sleep and look again in this
        invocation; hand back to the state machine's Wait state otherwise."""
        started = self.clock()
        while True:
            result = self.poll_once(state)
            wait = result.next_wait_seconds
            spent = self.clock() - started
            # Keep enough of the invocation for one more GET (connect + read timeouts) and the record update.
            room = time_left_ms() / 1000 - wait - INVOCATION_RESERVE_SECONDS
            if result.outcome != PollOutcome.WAITING or room < 0 or not wait_inline(wait, spent, self.policy):
                return result
            self.sleep(wait)
            state = state.model_copy(update={"poll": result})

    def poll_once(self, state: PollState) -> PollResult:
        now = self.clock()
        elapsed = now - state.submitted_at
        deadline = state.deadline_at - state.submitted_at
        poll_count = state.poll.poll_count + 1
        try:
            request = self.gmi.get(state.request_id)
        except GmiRetryableError as error:
            errors = state.poll.consecutive_errors + 1
            logger.warning("status check %d failed (%s); will retry", errors, error)
            self.metrics.add_metric(MetricName.POLL_ERRORS, "Count", 1)
            last_known = state.poll.gmi_status or "unknown"
            if now >= state.deadline_at:
                return self._timed_out(state, poll_count, last_known, elapsed)
            wait = wait_before_deadline(error_backoff_seconds(errors, self.policy), elapsed, deadline, self.policy)
            return PollResult(
                outcome=PollOutcome.WAITING,
                gmi_status=last_known,
                next_wait_seconds=wait,
                poll_count=poll_count,
                consecutive_errors=errors,
            )
        except GmiPermanentError as error:
            category = FailureCategory.GMI_NOT_FOUND if error.status_code == 404 else FailureCategory.GMI_UNAUTHORIZED
            return PollResult(
                outcome=PollOutcome.FAILED,
                gmi_status="unknown",
                next_wait_seconds=1,
                poll_count=poll_count,
                failure=Failure(category=category, message=str(error)),
            )

        outcome = classify_gmi_status(request.status)
        if outcome == PollOutcome.SUCCEEDED:
            return PollResult(outcome=outcome, gmi_status=request.status, next_wait_seconds=1, poll_count=poll_count)
        if outcome == PollOutcome.FAILED:
            message = request.failure_message
            failure = Failure(category=failure_category_for(request.status, message), message=message)
            return PollResult(
                outcome=outcome, gmi_status=request.status, next_wait_seconds=1, poll_count=poll_count, failure=failure
            )
        if parse_status(request.status) is None and request.status != state.poll.gmi_status:
            # Never silently: GMI said something its documentation does not (once per job, not per poll).
            logger.warning("job %s: GMI reported the undocumented status %r; polling on", state.job_id, request.status)
            self.metrics.add_metric(MetricName.UNKNOWN_GMI_STATUS, "Count", 1)
        if state.poll.poll_count == 0 or request.status != state.poll.gmi_status:
            # Only news is written: a job is polled 15-30 times, and every record update is billed.
            self._record_progress(state.job_id, request.status, poll_count)
        if now >= state.deadline_at:
            return self._timed_out(state, poll_count, request.status, elapsed)
        wait = wait_before_deadline(
            next_wait_seconds(elapsed, self.policy, state.expectation), elapsed, deadline, self.policy
        )
        return PollResult(
            outcome=PollOutcome.WAITING, gmi_status=request.status, next_wait_seconds=wait, poll_count=poll_count
        )

    def _timed_out(self, state: PollState, poll_count: int, gmi_status: str, elapsed: float) -> PollResult:
        message = f"GMI did not finish within the {int(state.deadline_at - state.submitted_at)} s deadline"
        logger.warning("job %s timed out after %.0f s", state.job_id, elapsed)
        return PollResult(
            outcome=PollOutcome.TIMED_OUT,
            next_wait_seconds=1,
            poll_count=poll_count,
            gmi_status=gmi_status,
            failure=Failure(category=FailureCategory.TIMED_OUT, message=message),
        )

    def _record_progress(self, job_id: str, gmi_status: str, poll_count: int) -> None:
        target = JobStatus.QUEUED if parse_status(gmi_status) in NOT_STARTED else JobStatus.PROCESSING
        try:
            self.repo.transition(job_id, target, {"gmi_status": gmi_status, "poll_count": poll_count})
        except TransitionRejectedError as stale:
            # e.g. GMI says queued after we saw processing: never move backwards, just count the poll.
            logger.debug("kept status %s for job %s", stale.current, job_id)
            self.repo.annotate(job_id, {"gmi_status": gmi_status, "poll_count": poll_count})
