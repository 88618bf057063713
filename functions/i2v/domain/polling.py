"""When to look again: the polling policy as pure functions of time and what past jobs taught us."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
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
    # Poll interval where jobs like this one most often finish: the detection lag is at most this much plus
    # SQS's delivery of the look (measured: 3 keeps lag p95 under 6 s at every spread, 4 does not).
    fine_interval_seconds: int = Field(default=3, ge=1)
    # Without learned timings: wait a fixed fraction of the time already spent (bounded lag ratio).
    unknown_growth: float = Field(default=0.1, gt=0, le=1)
    # After the learned window has passed: how fast the interval opens up again.
    overdue_growth: float = Field(default=0.15, gt=0, le=1)
    # Inside the window the interval widens where finishing is rare (see next_wait_seconds); 0 keeps it
    # at fine_interval_seconds throughout.
    tail_spacing: float = Field(default=0.25, ge=0, le=1)
    error_backoff_seconds: int = Field(default=5, ge=1)
    # In the Poll function (the fallback loop and the store loop's first step; the watch function never sleeps):
    # waits up to inline_max_wait_seconds are slept inside the poll invocation (for at most
    # inline_budget_seconds per invocation), longer ones go through the state machine's Wait state. Priced:
    # one Wait, Poll, Route round (3 transitions, $0.000075, plus its logs) costs as much as ~45 s of the
    # 128 MB arm64 poll function asleep, so shorter waits are cheaper slept (docs/benchmarks.md, levers).
    inline_max_wait_seconds: int = Field(default=45, ge=0)
    inline_budget_seconds: int = Field(default=600, ge=0, le=600)
    # Three finished jobs of a kind are enough: the prediction interval widens to make up for few samples.
    min_samples: int = Field(default=3, ge=2)
    # The first look lands at the window's early quantile: every second polled before a job finishes is paid
    # for, so p3 rather than p1 (measured: lag p95 stays under 6 s on all three spreads of the mix).
    early_quantile: float = Field(default=0.03, gt=0, lt=1)
    late_quantile: float = Field(default=0.99, gt=0, lt=1)

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


def t_quantile(q: float, dof: int) -> float:
    """Student's t quantile: exact for 1 and 2 degrees of freedom, Cornish-Fisher (4 terms) above (< 1 %)."""
    if dof == 1:
        return math.tan(math.pi * (q - 0.5))
    if dof == 2:
        return (2 * q - 1) / math.sqrt(2 * q * (1 - q))
    z = statistics.NormalDist().inv_cdf(q)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(term / float(dof) ** (power + 1) for power, term in enumerate(terms))


# A spread below this (5 %) is a coincidence of few samples, not a promise about the next job.
MIN_LOG_SPREAD = 0.05


def learn_expectation(generation_seconds: Sequence[float], policy: PollPolicy) -> Expectation | None:
    """The window the next job of this kind finishes in, with probability late_quantile - early_quantile.

    Generation times spread multiplicatively (queue wait, GPU contention), so they are fitted as lognormal,
    and the window is a prediction interval: Student's t over the log times, widened by sqrt(1 + 1/n), so a
    handful of samples gives a wide window rather than a first poll that lands after the finish.
    None until min_samples jobs of the same kind have finished.
    """
    logs = [math.log(seconds) for seconds in generation_seconds if seconds > 0]
    if len(logs) < policy.min_samples:
        return None
    count = len(logs)
    center = statistics.fmean(logs)
    spread = max(MIN_LOG_SPREAD, statistics.stdev(logs)) * math.sqrt(1 + 1 / count)
    return Expectation(
        early_seconds=math.exp(center + t_quantile(policy.early_quantile, count - 1) * spread),
        late_seconds=math.exp(center + t_quantile(policy.late_quantile, count - 1) * spread),
        samples=count,
    )


# What the policy learns from: the latest successes of the job's own time class, or, while that class has fewer
# than min_samples, the latest successes of any class of its model (a wider window, never a blind one). The
# class history is its own index, so a catalog of ~80 classes does not thin it out (docs/benchmarks.md, 1).
CLASS_HISTORY_LIMIT = 50
MODEL_HISTORY_LIMIT = 200


def history_key(model: str, time_class: Mapping[str, str]) -> str:
    """The key successes of one model and time class are learned under, e.g. "pixverse-v5.5-i2v#duration=5&quality=540p"."""
    return f"{model}#" + "&".join(f"{name}={value}" for name, value in sorted(time_class.items()))


def _clamp(seconds: float, policy: PollPolicy) -> int:
    return int(min(policy.max_wait_seconds, max(policy.min_wait_seconds, math.ceil(seconds))))


def _density_ratio(elapsed: float, policy: PollPolicy, expectation: Expectation) -> float:
    """Predicted finishing density at the typical finish over the density at `elapsed` (>= 1).

    The window is a t prediction interval over ln seconds, so early/late and the sample count give back
    its centre and scale.
    """
    if expectation.samples < 2 or not 0 < expectation.early_seconds < expectation.late_seconds:
        return 1.0
    dof = expectation.samples - 1
    low, high = t_quantile(policy.early_quantile, dof), t_quantile(policy.late_quantile, dof)
    scale = (math.log(expectation.late_seconds) - math.log(expectation.early_seconds)) / (high - low)
    center = math.log(expectation.early_seconds) - low * scale
    z = (math.log(max(elapsed, 1e-9)) - center) / scale
    return float((1 + z * z / dof) ** ((dof + 1) / 2))


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
        # Polls where finishing is rare buy little lag: space them by density^-tail_spacing (0.5 is the
        # square-root rule that minimises the mean lag for a given number of polls).
        ratio = _density_ratio(elapsed, policy, expectation)
        # Rounded down: at the typical finish the interval is exactly fine_interval_seconds.
        return _clamp(math.floor(policy.fine_interval_seconds * ratio**policy.tail_spacing), policy)
    overdue = elapsed - expectation.late_seconds
    return _clamp(policy.fine_interval_seconds + overdue * policy.overdue_growth, policy)


def wait_before_deadline(wait: int, elapsed: float, deadline_seconds: float, policy: PollPolicy) -> int:
    """Never sleep past the deadline: the last poll lands on it so a stuck job times out on time."""
    remaining = deadline_seconds - elapsed
    return max(policy.min_wait_seconds, min(wait, math.ceil(remaining))) if remaining > 0 else 1


def error_backoff_seconds(consecutive_errors: int, policy: PollPolicy) -> int:
    """Backoff after transient GMI errors while polling; errors alone never end a job."""
    return _clamp(policy.error_backoff_seconds * 2 ** max(0, consecutive_errors - 1), policy)


def wait_inline(wait: int, spent_in_invocation: float, policy: PollPolicy) -> bool:
    """Sleep `wait` inside the current poll invocation rather than hand back to a Wait state?"""
    return wait <= policy.inline_max_wait_seconds and spent_in_invocation + wait <= policy.inline_budget_seconds
