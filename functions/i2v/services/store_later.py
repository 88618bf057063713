"""The store loop: Complete ran out of retries on VideoNotStoredError (GMI's GET or the video host failing), so
the state machine brought the job back to Poll (`$.store_error` set). GMI made the video and bills for it: wait
with the poll policy's error backoff, and send the job to Complete again once GMI answers, until the deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from i2v.domain.jobs import Failure, FailureCategory
from i2v.domain.polling import PollOutcome, error_backoff_seconds, wait_before_deadline
from i2v.domain.workflow import CaughtError, PollResult, PollState
from i2v.services.poll import PollService

logger = logging.getLogger(__name__)


def look(service: PollService, state: PollState, time_left_ms: Callable[[], int] = lambda: 900_000) -> PollResult:
    """The verdict of one Poll task or one watch look: the store loop once Complete could not store the video,
    else the plain poll loop."""
    if state.store_error is None:
        return service.poll(state, time_left_ms)
    return poll_after_failed_store(service, state, time_left_ms)


def poll_after_failed_store(
    service: PollService, state: PollState, time_left_ms: Callable[[], int] = lambda: 900_000
) -> PollResult:
    """Straight from Complete's Catch (the previous verdict sent the job to Complete): wait, longer after every
    failed round. After the wait: an ordinary poll, so GMI's outage is ridden like any other and a job GMI still
    calls done goes back to Complete. At the deadline the job fails download_failed, saying why."""
    store_error = state.store_error
    assert store_error is not None, "only for the store loop"
    failed_stores = state.poll.failed_stores
    if state.poll.outcome == PollOutcome.SUCCEEDED:
        failed_stores += 1
        now = service.clock()
        if now >= state.deadline_at:
            return _not_stored(state, failed_stores, store_error)
        policy = service.policy
        elapsed, deadline = now - state.submitted_at, state.deadline_at - state.submitted_at
        wait = wait_before_deadline(error_backoff_seconds(failed_stores, policy), elapsed, deadline, policy)
        logger.warning("job %s: video not stored (round %d); trying again in %d s", state.job_id, failed_stores, wait)
        return state.poll.model_copy(
            update={"outcome": PollOutcome.WAITING, "next_wait_seconds": wait, "failed_stores": failed_stores}
        )
    result = service.poll(state, time_left_ms)
    if result.outcome == PollOutcome.TIMED_OUT:
        return _not_stored(state, failed_stores, store_error)
    return result.model_copy(update={"failed_stores": failed_stores})


def _not_stored(state: PollState, failed_stores: int, store_error: CaughtError) -> PollResult:
    """Not a plain timeout: GMI finished, storing the video is what failed."""
    deadline = int(state.deadline_at - state.submitted_at)
    cause = store_error.failure().message
    message = f"GMI made the video, but it could not be stored before the {deadline} s deadline: {cause}"
    logger.warning("job %s: %s", state.job_id, message)
    return state.poll.model_copy(
        update={
            "outcome": PollOutcome.FAILED,
            "next_wait_seconds": 1,
            "failed_stores": failed_stores,
            "failure": Failure(category=FailureCategory.DOWNLOAD_FAILED, message=message),
        }
    )
