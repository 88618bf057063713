"""Whether a job may be POSTed now: GMI's availability (a circuit breaker), the shared pace, the outage patience.

Issue-11 policy in one place: uploads ride out a GMI that accepts nothing (parked `deferred`, reason
`gmi_unavailable`, brought back by fresh delayed messages so receive counts never run out) and wait their turn
in the pace instead of drawing 429s.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from i2v.domain.jobs import FailureCategory
from i2v.domain.pacing import (
    INLINE_WAIT_SECONDS,
    MAX_DEFER_SECONDS,
    defer_seconds,
    outage_delay_seconds,
)
from i2v.domain.record import JobRecord
from i2v.services.ports import SubmitBreakerPort, SubmitPacePort

T = TypeVar("T")


class OpenCircuit:
    """No breaker (tests, tools): always closed."""

    def is_open(self) -> bool:
        return False

    def call(self, submit: Callable[[], T]) -> T:
        return submit()


@dataclass(frozen=True)
class Turn:
    """`wait_seconds` until the job may POST; `slot_at` is its reservation (None when unpaced)."""

    wait_seconds: float
    slot_at: float | None

    @property
    def now(self) -> bool:
        return self.wait_seconds <= 0


@dataclass(frozen=True)
class Parking:
    """The decision for a job GMI would not take: wait `delay_seconds` more, or give up (`give_up`)."""

    since: float
    looks: int
    delay_seconds: int
    give_up: bool

    def fields(self, reason: str) -> dict[str, object]:
        """What the parked job's record says: why it waits, since when, how often it looked."""
        failure = {"category": FailureCategory.GMI_UNAVAILABLE.value, "message": reason}
        return {"failure": failure, "unavailable_since": self.since, "unavailable_looks": self.looks}


@dataclass
class SubmitGate:
    breaker: SubmitBreakerPort = field(default_factory=OpenCircuit)
    pace: SubmitPacePort | None = None
    rate_per_minute: int = 0
    patience_seconds: int = 86400
    rng: random.Random = field(default_factory=random.Random)

    def turn(self, job: JobRecord, now: float) -> Turn:
        """The job's turn in the pace: the one it already holds, or the next free one."""
        if not self.rate_per_minute or self.pace is None:
            return Turn(0.0, None)
        slot = job.pace_slot_at
        if slot is None:
            slot = self.pace.take_turn(now, self.rate_per_minute).slot_at
        return Turn(max(0.0, slot - now), slot)

    @staticmethod
    def sleep_inline(turn: Turn, seconds_left: float) -> bool:
        """Sleep for a turn this close rather than go round the queue, if the invocation has the time."""
        return turn.wait_seconds <= INLINE_WAIT_SECONDS and turn.wait_seconds < seconds_left

    def defer_delay(self, turn: Turn) -> int:
        return defer_seconds(turn.wait_seconds)

    @property
    def paced(self) -> bool:
        return bool(self.rate_per_minute and self.pace is not None)

    def park(self, job: JobRecord, now: float, not_before: float | None = None) -> Parking:
        """`not_before`: the job must not come back earlier (after a 503: until GMI's list has settled)."""
        since = job.unavailable_since if job.unavailable_since is not None else now
        looks = job.unavailable_looks + 1
        delay = outage_delay_seconds(looks, self.rng)
        if not_before is not None:
            delay = min(MAX_DEFER_SECONDS, max(delay, math.ceil(not_before - now)))
        return Parking(since=since, looks=looks, delay_seconds=delay, give_up=now - since >= self.patience_seconds)
