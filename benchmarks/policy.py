"""Benchmark 1: the real polling policy replayed over the reference mix in simulated time (no sleeping).

Production path replayed exactly (`ExecutionStart.execution_input`, i2v.services.submit_start): at submit, `learn_expectation` over the
latest CLASS_HISTORY_LIMIT successes of the job's model and time class (the by-time-class index); while that
class has fewer than min_samples, over the successes of the same model among the latest MODEL_HISTORY_LIMIT
(`JobRepository.recent_generation_seconds`); the first wait is `next_wait_seconds(0, ...)`; each poll then calls
`next_wait_seconds` and `wait_before_deadline`. Only jobs that finished before a job was submitted are in its
history.

Two ways of waiting between looks (`Looks`):
- WATCH_QUEUE (deployed, `ours`): the Watch state sends the job to the watch queue delayed by the wait (at most
  SQS_MAX_DELAY_SECONDS; a longer wait is sent on in hops, no GET), and the watch function looks once per
  delivery. Nothing is slept: a look lands at the previous one + the wait + SQS's delivery after the delay
  (SQS_DELIVERY_SECONDS, assumed) + POLL_OVERHEAD_SECONDS. One Watch round through the state machine per job.
- WAIT_LOOP (the fixed schedules, the previous design): Wait -> Poll -> Route rounds; waits that `wait_inline`
  allows are slept inside the poll invocation (no Wait state, no transitions), the rest go back through the
  state machine. A fixed schedule never sleeps inline (its waits are longer than inline_max_wait_seconds).
"""

from __future__ import annotations

import bisect
import enum
import json
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.mix import DEFAULT_SIGMA, ReferenceJob, reference_mix
from benchmarks.stepfunctions import workflow_cost
from i2v.domain.polling import (
    CLASS_HISTORY_LIMIT,
    MODEL_HISTORY_LIMIT,
    Expectation,
    PollPolicy,
    learn_expectation,
    next_wait_seconds,
    wait_before_deadline,
    wait_inline,
)

# Simulated time from a wait ending to the GET reaching GMI (state transition or SQS poller + warm invoke + TLS
# GET); in the watch design also the GET before the next message is sent.
POLL_OVERHEAD_SECONDS = 0.3
# Assumed, not measured: a delayed SQS message reaches the watch function (the event source mapping long-polls
# the queue) this long after its delay ends. Part of every wait of the watch design, so of the spacing of looks.
SQS_DELIVERY_SECONDS = 1.0
SQS_MAX_DELAY_SECONDS = 900  # SendMessage's DelaySeconds limit: a longer wait is sent on in hops
DEADLINE_SECONDS = 1800


class Looks(enum.Enum):
    WATCH_QUEUE = "each look woken by a delayed SQS message"  # deployed
    WAIT_LOOP = "Wait -> Poll -> Route rounds, short waits slept in the poll invocation"


def hops_for(wait: float) -> int:
    """Messages the watch function only sends on (no GET) before a `wait` is over."""
    return max(0, math.ceil(wait / SQS_MAX_DELAY_SECONDS) - 1)


Schedule = Callable[[float, Expectation | None], int]  # (elapsed, expectation) -> seconds to wait


@dataclass
class JobOutcome:
    lag: float
    polls: int  # GETs to GMI
    warm: bool  # the job's own class had min_samples successes (else: learned model-wide, or blind)
    job_class: str = ""
    # Rounds through the state machine: Wait -> Poll -> Route rounds (poll invocations), or the one Watch round
    rounds: int = 0
    invocation_seconds: float = 0.0  # summed duration of the poll invocations, inline sleeps included
    arrival: float = 0.0  # submitted at (seconds since the start of the replay)
    polling_from: float = 0.0  # the first look (absolute)
    done_at: float = 0.0  # the look that sees the success (absolute)
    hops: int = 0  # watch invocations that only sent the message on (waits > SQS_MAX_DELAY_SECONDS)
    watched: bool = False  # looks woken by the watch queue (Looks.WATCH_QUEUE), else Wait-loop rounds

    @property
    def invocations(self) -> int:
        """Lambda invocations that watched the job: watch function (looks + hops) or poll function (rounds)."""
        return self.polls + self.hops if self.watched else self.rounds


@dataclass
class PolicyResult:
    name: str
    outcomes: list[JobOutcome] = field(default_factory=list)

    def subset(self, warm: bool | None) -> list[JobOutcome]:
        return [o for o in self.outcomes if warm is None or o.warm == warm]

    def mean_of(self, job_class: str, attribute: str) -> float:
        chosen = [o for o in self.outcomes if o.job_class == job_class] or self.outcomes
        return statistics.fmean(float(getattr(o, attribute)) for o in chosen)

    def summary(self, warm: bool | None = None) -> dict[str, float]:
        chosen = self.subset(warm)
        if not chosen:
            return {"jobs": 0}
        lags = sorted(o.lag for o in chosen)
        polls = [o.polls for o in chosen]
        costs = [workflow_cost(o.rounds, o.watched) for o in chosen]
        return {
            "jobs": len(chosen),
            "lag_p50": percentile(lags, 0.50),
            "lag_p95": percentile(lags, 0.95),
            "lag_max": lags[-1],
            "polls_mean": statistics.fmean(polls),
            "polls_p95": percentile(sorted(polls), 0.95),
            "rounds_mean": statistics.fmean(o.rounds for o in chosen),
            "invocations_mean": statistics.fmean(o.invocations for o in chosen),
            "hops_mean": statistics.fmean(o.hops for o in chosen),
            "transitions_mean": statistics.fmean(c.transitions for c in costs),
            "history_events_mean": statistics.fmean(c.history_events for c in costs),
        }


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def deployed_policy() -> PollPolicy:
    """POLL_POLICY as deployed: cdk.json's `i2v.poll_policy` over the PollPolicy defaults."""
    try:
        from i2v_infra.synth import load_cdk_context

        raw: dict[str, Any] = load_cdk_context().get("i2v", {}).get("poll_policy", {})
    except ImportError:  # pragma: no cover
        raw = {}
    return PollPolicy.model_validate_json(json.dumps(raw))


def ours(policy: PollPolicy) -> Schedule:
    def schedule(elapsed: float, expectation: Expectation | None) -> int:
        wait = next_wait_seconds(elapsed, policy, expectation)
        return wait if elapsed == 0 else wait_before_deadline(wait, elapsed, DEADLINE_SECONDS, policy)

    return schedule


def fixed(seconds: int) -> Schedule:
    return lambda elapsed, expectation: seconds


def true_window(sigma: float) -> Callable[[ReferenceJob, PollPolicy], Expectation]:
    """A bound, not a policy: each class's real window (its lognormal quantiles), as if learning made no error."""
    normal = statistics.NormalDist()

    def window(job: ReferenceJob, policy: PollPolicy) -> Expectation:
        center = math.log(job.job_class.median_seconds)
        return Expectation(
            early_seconds=math.exp(center + normal.inv_cdf(policy.early_quantile) * sigma),
            late_seconds=math.exp(center + normal.inv_cdf(policy.late_quantile) * sigma),
            samples=10**6,
        )

    return window


def replay(
    jobs: Sequence[ReferenceJob],
    schedule: Schedule,
    policy: PollPolicy,
    name: str,
    known: Callable[[ReferenceJob, PollPolicy], Expectation] | None = None,
    looks: Looks = Looks.WAIT_LOOP,
) -> PolicyResult:
    """`known`: replace learning by a given window (true_window, for the bound); `looks`: how the job waits
    between two looks (the deployed policy: Looks.WATCH_QUEUE)."""
    result = PolicyResult(name)
    # (finished_at, class name, model, generation seconds) of earlier jobs, in finishing order.
    finished: list[tuple[float, str, str, float]] = []
    for job in jobs:
        seen = bisect.bisect_right(finished, (job.arrival, "~", "~", math.inf))  # finished before this submission
        name, model = job.job_class.name, job.job_class.model_id
        own = [s for _, c, _, s in finished[:seen] if c == name][-CLASS_HISTORY_LIMIT:]
        expectation = known(job, policy) if known else learn_expectation(own, policy)
        if expectation is None:
            recent = finished[max(0, seen - MODEL_HISTORY_LIMIT) : seen]
            expectation = learn_expectation([s for _, _, m, s in recent if m == model], policy)
        if looks is Looks.WATCH_QUEUE:
            outcome = _watch(job, schedule, expectation)
        else:
            outcome = _wait_loop(job, schedule, expectation, policy)
        outcome.warm = len(own) >= policy.min_samples
        result.outcomes.append(outcome)
        bisect.insort(finished, (outcome.done_at, name, model, job.generation_seconds))
    return result


def _watch(job: ReferenceJob, schedule: Schedule, expectation: Expectation | None) -> JobOutcome:
    """Looks woken by delayed messages: each wait is followed by SQS's delivery and the look's own overhead."""
    elapsed, polls, hops = 0.0, 0, 0
    wait = schedule(0.0, expectation)
    polling_from = job.arrival + wait + SQS_DELIVERY_SECONDS + POLL_OVERHEAD_SECONDS
    while True:
        hops += hops_for(wait)
        elapsed += wait + SQS_DELIVERY_SECONDS + POLL_OVERHEAD_SECONDS
        polls += 1
        if elapsed >= job.generation_seconds:
            break
        wait = schedule(elapsed, expectation)
    return JobOutcome(
        lag=elapsed - job.generation_seconds,
        polls=polls,
        warm=False,
        job_class=job.job_class.name,
        rounds=1,
        invocation_seconds=polls * POLL_OVERHEAD_SECONDS,
        arrival=job.arrival,
        polling_from=polling_from,
        done_at=job.arrival + elapsed,
        hops=hops,
        watched=True,
    )


def _wait_loop(
    job: ReferenceJob, schedule: Schedule, expectation: Expectation | None, policy: PollPolicy
) -> JobOutcome:
    """Wait -> Poll -> Route rounds; a poll invocation sleeps through the waits `wait_inline` allows."""
    elapsed, polls, rounds, invocation_seconds = 0.0, 0, 0, 0.0
    wait = schedule(0.0, expectation)
    polling_from = job.arrival + wait
    done = False
    while not done:
        elapsed += wait  # a Wait state, then a poll invocation
        rounds += 1
        spent = 0.0
        while True:
            elapsed += POLL_OVERHEAD_SECONDS
            spent += POLL_OVERHEAD_SECONDS
            polls += 1
            if elapsed >= job.generation_seconds:
                done = True
                break
            wait = schedule(elapsed, expectation)
            if not wait_inline(wait, spent, policy):
                break
            elapsed += wait  # slept inside the invocation
            spent += wait
        invocation_seconds += spent
    return JobOutcome(
        lag=elapsed - job.generation_seconds,
        polls=polls,
        warm=False,
        job_class=job.job_class.name,
        rounds=rounds,
        invocation_seconds=invocation_seconds,
        arrival=job.arrival,
        polling_from=polling_from,
        done_at=job.arrival + elapsed,
    )


OURS = "ours (learned, watch queue)"


def run(count: int = 3000, sigma: float = DEFAULT_SIGMA, policy: PollPolicy | None = None) -> list[PolicyResult]:
    chosen = policy or deployed_policy()
    jobs = reference_mix(count, sigma=sigma)
    return [
        replay(jobs, ours(chosen), chosen, OURS, looks=Looks.WATCH_QUEUE),
        replay(jobs, fixed(60), chosen, "fixed 60 s"),
        replay(jobs, fixed(180), chosen, "fixed 180 s"),
    ]
