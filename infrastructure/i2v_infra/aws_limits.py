"""Hard service limits a configuration must fit, checked at synth (an unfit value fails in AWS only much later)."""

from __future__ import annotations

import math
from typing import Any

from i2v.domain.polling import PollPolicy

S3_MAX_PARTS = 10_000  # parts of one multipart upload
SFN_MAX_HISTORY_EVENTS = 25_000  # events in one Standard execution's history
# One Wait -> Poll -> Route round: Wait entered/exited, the Lambda task's entered/scheduled/started/succeeded/exited,
# Route entered/exited.
EVENTS_PER_POLL_ROUND = 9
# Everything outside the loop, retries included: start, AlreadyDone?, Complete or RecordFailure with every retry
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


def worst_case_history_events(poll_policy: dict[str, Any], job_deadline_seconds: int) -> int:
    """History events of an execution that polls as often as the policy allows until the deadline."""
    policy = PollPolicy.model_validate(poll_policy)
    rounds = math.ceil(job_deadline_seconds / shortest_poll_round_seconds(policy)) + 1
    return rounds * EVENTS_PER_POLL_ROUND + EVENTS_OUTSIDE_THE_LOOP
