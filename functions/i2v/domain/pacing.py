"""When a submission may go to GMI: the shared pace (a reservation queue) and the waits of outage riding."""

from __future__ import annotations

import random
from dataclasses import dataclass

# SQS delays a message by at most 15 minutes; a longer wait is several deferrals.
MAX_DEFER_SECONDS = 900
# A slot this close is slept inside the invocation instead of a round trip through the queue.
INLINE_WAIT_SECONDS = 5.0
# Outage riding: the first look again after this long, doubling up to MAX_DEFER_SECONDS.
OUTAGE_FIRST_DELAY_SECONDS = 30


class CircuitOpenError(Exception):
    """The breaker is open: GMI was refusing submissions a moment ago, so nothing was sent."""


@dataclass(frozen=True)
class Reservation:
    """A turn in the shared pace: POST at `slot_at`; the next turn starts `interval` later (`next_free_at`)."""

    slot_at: float
    next_free_at: float


def reserve(next_free_at: float | None, now: float, rate_per_minute: int) -> Reservation:
    """The next free turn (generic cell rate: one submission every 60/rate seconds, no burst), never in the past:
    a pace that was idle does not bank turns for later."""
    interval = 60.0 / rate_per_minute
    slot = max(next_free_at or 0.0, now)
    return Reservation(slot_at=slot, next_free_at=slot + interval)


def defer_seconds(wait: float) -> int:
    """A queue delay for a wait: whole seconds rounded down (back a little early, the rest is slept inline so the
    turn is kept to the second), at least 1, at most what SQS allows (then the job waits again)."""
    return max(1, min(MAX_DEFER_SECONDS, int(wait)))


def outage_delay_seconds(looks: int, rng: random.Random) -> int:
    """The wait after the `looks`-th time a job found GMI unavailable: growing, jittered so parked jobs spread."""
    ceiling = min(MAX_DEFER_SECONDS, OUTAGE_FIRST_DELAY_SECONDS * 2 ** max(0, looks - 1))
    return max(1, int(rng.uniform(ceiling / 2, ceiling)))
