"""When to look again: the polling policy as pure functions of time and what past jobs taught us."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PollOutcome(StrEnum):
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


_FINISHED_OK = {"success", "succeeded", "completed"}
_FINISHED_BAD = {"failed", "cancelled", "canceled", "error"}


def classify_gmi_status(status: str | None) -> PollOutcome:
    """queued, processing and anything unknown (e.g. dispatched) mean keep waiting."""
    normalized = (status or "").strip().lower()
    if normalized in _FINISHED_OK:
        return PollOutcome.SUCCEEDED
    if normalized in _FINISHED_BAD:
        return PollOutcome.FAILED
    return PollOutcome.WAITING


class PollPolicy(BaseModel):
    """Tunable through the POLL_POLICY setting; local runs shrink the waits through it, not through code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initial_wait_seconds: int = Field(default=20, ge=1)
    min_wait_seconds: int = Field(default=2, ge=1)
    max_wait_seconds: int = Field(default=60, ge=1)
    fine_interval_seconds: int = Field(default=5, ge=1)
    # Without learned timings: wait a fixed fraction of the time already spent (bounded lag ratio).
    unknown_growth: float = Field(default=0.1, gt=0, le=1)
    # After the learned window has passed: how fast the interval opens up again.
    overdue_growth: float = Field(default=0.15, gt=0, le=1)
    error_backoff_seconds: int = Field(default=5, ge=1)
    min_samples: int = Field(default=5, ge=1)
    early_quantile: float = Field(default=0.02, ge=0, lt=1)
    late_quantile: float = Field(default=0.98, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min_wait_seconds <= self.fine_interval_seconds <= self.max_wait_seconds:
            raise ValueError("need min_wait_seconds <= fine_interval_seconds <= max_wait_seconds")
        if self.early_quantile >= self.late_quantile:
            raise ValueError("early_quantile must be below late_quantile")
        return self


class Expectation(BaseModel):
    """The window in which jobs like this one usually finish, learned from past generation times."""

    model_config = ConfigDict(frozen=True)

    early_seconds: float = Field(ge=0)
    late_seconds: float = Field(ge=0)
    samples: int = Field(ge=0)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    position = q * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def learn_expectation(generation_seconds: Sequence[float], policy: PollPolicy) -> Expectation | None:
    """None until enough jobs of the same kind have finished to trust their spread."""
    if len(generation_seconds) < policy.min_samples:
        return None
    ordered = sorted(generation_seconds)
    return Expectation(
        early_seconds=quantile(ordered, policy.early_quantile),
        late_seconds=quantile(ordered, policy.late_quantile),
        samples=len(ordered),
    )


def _clamp(seconds: float, policy: PollPolicy) -> int:
    return int(min(policy.max_wait_seconds, max(policy.min_wait_seconds, math.ceil(seconds))))


def next_wait_seconds(elapsed: float, policy: PollPolicy, expectation: Expectation | None) -> int:
    """Seconds until the next poll, for a job that has been running `elapsed` seconds and is not done."""
    if expectation is None:
        if elapsed < policy.initial_wait_seconds:
            return _clamp(policy.initial_wait_seconds - elapsed, policy)
        return _clamp(elapsed * policy.unknown_growth, policy)
    lead = policy.fine_interval_seconds / 2
    if elapsed < expectation.early_seconds - lead:
        # Sleep through the part of the run where jobs like this never finish (max_wait does not apply).
        return max(policy.min_wait_seconds, math.ceil(expectation.early_seconds - lead - elapsed))
    if elapsed <= expectation.late_seconds:
        return _clamp(policy.fine_interval_seconds, policy)
    overdue = elapsed - expectation.late_seconds
    return _clamp(policy.fine_interval_seconds + overdue * policy.overdue_growth, policy)


def wait_before_deadline(wait: int, elapsed: float, deadline_seconds: float, policy: PollPolicy) -> int:
    """Never sleep past the deadline: the last poll lands on it so a stuck job times out on time."""
    remaining = deadline_seconds - elapsed
    return max(policy.min_wait_seconds, min(wait, math.ceil(remaining))) if remaining > 0 else 1


def error_backoff_seconds(consecutive_errors: int, policy: PollPolicy) -> int:
    """Backoff after transient GMI errors while polling; errors alone never end a job."""
    return _clamp(policy.error_backoff_seconds * 2 ** max(0, consecutive_errors - 1), policy)
