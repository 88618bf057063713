"""Hard service limits a configuration must fit, checked at synth (an unfit value fails in AWS only much later)."""

from __future__ import annotations

import math
from typing import Any

from i2v.domain.polling import PollPolicy, error_backoff_seconds

S3_MAX_PARTS = 10_000  # parts of one multipart upload
SFN_MAX_HISTORY_EVENTS = 25_000  # events in one Standard execution's history
# The most a round can write is the fallback's, when SQS refuses every Watch message: Watch entered, scheduled,
# started, failed, exited (5), Wait entered/exited (2), the Lambda task's entered/scheduled/started/succeeded/exited
# (5), Route entered/exited (2). A Watch that is answered writes its 6 events once, whatever its looks
# (tests/scenarios s15 measures both). An upper bound since Route keeps a job whose Watch failed in the fallback
# loop: only its first round has the refused Watch's 5 events.
EVENTS_PER_POLL_ROUND = 14
# One round of the store loop (Complete ran out of retries on VideoNotStoredError): Complete with every retry of
# every retrier used (entered, 14 attempts of scheduled/started/failed, exited: 44), Poll and Route sending the job
# to Watch (7), a refused Watch (5), Wait (2), Poll and Route sending it back to Complete (7). tests/infrastructure
# checks the 14.
EVENTS_PER_STORE_ROUND = 65
# Everything outside the loops, retries included: start, AlreadyDone?, Complete or RecordFailure with every retry
# used (3 events per failed attempt), the end.
EVENTS_OUTSIDE_THE_LOOP = 200


def video_parts(max_video_bytes: int, part_size_bytes: int) -> int:
    return math.ceil(max_video_bytes / part_size_bytes)


def shortest_poll_round_seconds(policy: PollPolicy) -> int:
    """The shortest time one trip through the Wait state can cover. A wait goes through the Wait state when it
    is longer than inline_max_wait_seconds, or when sleeping it inline would pass inline_budget_seconds (then
    the invocation already spent more than the budget minus the wait). No wait is shorter than min_wait."""
    through_wait_state = policy.inline_max_wait_seconds + 1
    over_budget = max(policy.inline_budget_seconds, 1)
    return max(policy.min_wait_seconds, min(through_wait_state, over_budget))


def store_waits_below_the_cap(policy: PollPolicy) -> int:
    """The store loop waits error_backoff_seconds(n) after its n-th failed round: how many of those waits are
    shorter than the cap (max_wait_seconds) they grow to."""
    count = 0
    while error_backoff_seconds(count + 1, policy) < policy.max_wait_seconds:
        count += 1
    return count


def worst_case_history_events(poll_policy: dict[str, Any], job_deadline_seconds: int) -> int:
    """History events of an execution that loops as often as the policy allows until the deadline.

    The deadline is shared by the poll loop (a round every shortest_poll_round_seconds at most) and the store
    loop (a round every max_wait_seconds once its backoff is capped, plus its shorter first waits, once). Both
    bounds are linear in the time given to each loop, so the worst split gives all of it to one of them.
    """
    policy = PollPolicy.model_validate(poll_policy)
    deadline = job_deadline_seconds
    short_store_rounds = store_waits_below_the_cap(policy) + 1  # +1: the wait the deadline cut short
    polling = (math.ceil(deadline / shortest_poll_round_seconds(policy)) + 2) * EVENTS_PER_POLL_ROUND
    storing = (short_store_rounds + math.ceil(deadline / policy.max_wait_seconds)) * EVENTS_PER_STORE_ROUND
    worst = max(
        polling + short_store_rounds * EVENTS_PER_STORE_ROUND,
        2 * EVENTS_PER_POLL_ROUND + storing,
    )
    return worst + EVENTS_OUTSIDE_THE_LOOP
