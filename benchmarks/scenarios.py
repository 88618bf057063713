"""Scenarios of the polling replay: one job in flight, a steady stream, a burst (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import mix
from benchmarks.mix import ReferenceJob, reference_mix
from benchmarks.policy import OURS, JobOutcome, Looks, PolicyResult, fixed, ours, replay
from i2v.domain.polling import PollPolicy

BURST_SIZE = 60
BURSTS = 5  # measured bursts per replay: p95 over 300 jobs rather than 60


@dataclass(frozen=True)
class Scenario:
    name: str
    jobs: list[ReferenceJob]
    measured: list[int] | None = None  # indices of the jobs whose outcomes count; None: all (else warm-up)


def scenarios(count: int, sigma: float, burst_size: int = BURST_SIZE, bursts: int = BURSTS) -> list[Scenario]:
    jobs = reference_mix(count, sigma=sigma)
    burst_jobs, indices = mix.with_bursts(jobs, min(burst_size, count // bursts // 2), bursts)
    return [
        Scenario("one in flight", mix.one_at_a_time(jobs)),
        Scenario("steady, one a minute", jobs),
        Scenario(f"bursts of {burst_size}", burst_jobs, indices),
    ]


@dataclass
class ScenarioResult:
    scenario: str
    sigma: float
    ours: PolicyResult
    fixed_60: PolicyResult
    peak_in_flight: int  # executions running at once (submitted, success not yet seen), measured jobs

    @property
    def label(self) -> str:
        return f"{self.scenario} (peak {self.peak_in_flight} in flight), sigma {self.sigma}"


def peak_in_flight(outcomes: Sequence[JobOutcome]) -> int:
    edges = sorted([(o.arrival, 1) for o in outcomes] + [(o.done_at, -1) for o in outcomes])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def measured(result: PolicyResult, indices: list[int] | None) -> PolicyResult:
    return PolicyResult(result.name, result.outcomes if indices is None else [result.outcomes[i] for i in indices])


def run_scenario(scenario: Scenario, sigma: float, policy: PollPolicy) -> ScenarioResult:
    ours_ = measured(replay(scenario.jobs, ours(policy), policy, OURS, looks=Looks.WATCH_QUEUE), scenario.measured)
    fixed_60 = measured(replay(scenario.jobs, fixed(60), policy, "fixed 60 s"), scenario.measured)
    return ScenarioResult(scenario.name, sigma, ours_, fixed_60, peak_in_flight(ours_.outcomes))
