"""The levers of issue 14: each one measured by replaying the policy it implies, priced by the cost model.

The rows are the history of the design, one lever added at a time, and end with the deployed one: the Watch
task's looks, each woken by a delayed SQS message (benchmarks.policy.Looks.WATCH_QUEUE). The rows before it
replay the previous design, whose poll invocation slept through short waits (Looks.WAIT_LOOP).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from benchmarks.bill_facts import Index, StackFacts
from benchmarks.burst import BurstResult
from benchmarks.policy import POLL_OVERHEAD_SECONDS, JobOutcome, Looks
from benchmarks.pricing import mean_cost, of_job, per_video, total
from benchmarks.pricing_model import CostModel, kind_of

# The defaults before issue 14, for the "before" row: 256 MB, short waits only inline, one record write per poll.
BEFORE: dict[str, float] = {"inline_max_wait_seconds": 10, "inline_budget_seconds": 60, "early_quantile": 0.01}
# The previous design's inline sleeps (PollPolicy's defaults while the poll invocation slept), stated here so the
# history rows do not move with the deployed policy.
INLINE: dict[str, float] = {"inline_max_wait_seconds": 45, "inline_budget_seconds": 600}
DEPLOYED = "deployed: each look woken by a delayed SQS message (Watch task token)"


@dataclass(frozen=True)
class Lever:
    name: str
    policy: dict[str, float]  # PollPolicy fields over the deployed ones
    model: CostModel
    shared_poller: bool = False  # modelled, not built: one invocation polls every due job
    http_task: bool = False  # modelled, not built: each poll a Step Functions HTTP task (no Lambda)
    watch_queue: bool = False  # each look a watch invocation woken by a delayed SQS message (deployed)
    on_fixed_60: bool = False  # replay the fixed 60 s schedule (its lag) instead of our policy
    true_window: bool = False  # a bound: every class's real window known, no learning error
    stack: Callable[[StackFacts], StackFacts] | None = None  # issue 25: the stack built otherwise than deployed

    @property
    def looks(self) -> Looks:
        return Looks.WATCH_QUEUE if self.watch_queue else Looks.WAIT_LOOP

    @property
    def deployed(self) -> bool:
        return self.name == DEPLOYED


LEVERS = (
    Lever(
        "before: 256 MB, inline waits <= 10 s for <= 60 s, first look at p1, a record write per poll",
        BEFORE,
        CostModel(poll_memory_mb=256, write_every_poll=True),
    ),
    Lever("+ poll function at 128 MB", BEFORE, CostModel(poll_memory_mb=128, write_every_poll=True)),
    Lever(
        "+ inline waits priced: <= 45 s, for <= 600 s",
        {**BEFORE, **INLINE},
        CostModel(poll_memory_mb=128, write_every_poll=True),
    ),
    Lever(
        "+ record written only when GMI's status changes",
        {**INLINE, "early_quantile": 0.01},
        CostModel(poll_memory_mb=128),
    ),
    Lever("previous: inline sleeps in the poll invocation (first look at p3)", INLINE, CostModel(poll_memory_mb=128)),
    Lever(
        "bound, not a policy: inline sleeps, each class's true window known (no learning error), first look at p3",
        INLINE,
        CostModel(poll_memory_mb=128),
        true_window=True,
    ),
    Lever(
        "bound, not a policy: inline sleeps, true windows, first look at p4.5 (lag p95 near its 6 s limit)",
        {**INLINE, "early_quantile": 0.045},
        CostModel(poll_memory_mb=128),
        true_window=True,
    ),
    Lever(
        "modelled, not built: one poller for every due job (task tokens)",
        INLINE,
        CostModel(poll_memory_mb=128),
        shared_poller=True,
    ),
    Lever(
        "modelled, not built: Step Functions HTTP task per poll",
        {"inline_max_wait_seconds": 0},
        CostModel(poll_memory_mb=128),
        http_task=True,
    ),
    Lever(DEPLOYED, {}, CostModel(), watch_queue=True),
    Lever(
        "issue 25: the watch function's looks traced, each a trace of its own (trace_looks: true)",
        {},
        CostModel(),
        watch_queue=True,
        stack=lambda facts: replace(facts, traced=facts.traced | {"watch"}),
    ),
    Lever(
        "issue 25: by-source and by-status projecting every attribute (wide_indexes: true, the layout before)",
        {},
        CostModel(),
        watch_queue=True,
        stack=lambda facts: replace(facts, indexes=tuple(_projecting(i, "ALL") for i in facts.indexes)),
    ),
    Lever(
        "modelled, for branch watch-path: each look's claim on a small item of its own (1 WRU), not the job item",
        {},
        CostModel(),
        watch_queue=True,
        stack=lambda facts: replace(facts, claim_on_own_item=True),
    ),
    Lever(
        "not a policy: the fixed 60 s schedule also by delayed SQS messages (what that baseline would become)",
        {},
        CostModel(),
        watch_queue=True,
        on_fixed_60=True,
    ),
)


def _projecting(index: Index, how: str) -> Index:
    """`index` with every attribute projected (ALL), or narrowed (NARROW) to what the code reads from it."""
    if index.name == "by-source":
        return replace(index, projection="ALL" if how == "ALL" else "KEYS_ONLY", non_key=())
    if index.name == "by-status":
        narrow = ("model", "generation_seconds")
        return replace(index, projection="ALL" if how == "ALL" else "INCLUDE", non_key=() if how == "ALL" else narrow)
    return index


def shared_seconds(outcomes: Sequence[JobOutcome]) -> list[float]:
    """Each job's share of one poller's awake time: while k jobs are being polled, each pays 1/k of the time."""
    edges = sorted(
        [(o.polling_from, 1, i) for i, o in enumerate(outcomes)] + [(o.done_at, -1, i) for i, o in enumerate(outcomes)]
    )
    shares = [0.0] * len(outcomes)
    active: set[int] = set()
    last = edges[0][0] if edges else 0.0
    for at, step, index in edges:
        if active:
            for job in active:
                shares[job] += (at - last) / len(active)
        last = at
        (active.add if step == 1 else active.discard)(index)
    return shares


def lever_cost(lever: Lever, outcomes: Sequence[JobOutcome], burst: BurstResult) -> float:
    """$ per video of the replayed `outcomes` (replayed with `lever.looks`) under the lever's design."""
    if lever.shared_poller:
        shares = shared_seconds(outcomes)
        return statistics.fmean(
            of_job(replace(o, rounds=1, invocation_seconds=share + o.polls * POLL_OVERHEAD_SECONDS), burst, lever.model)
            for o, share in zip(outcomes, shares, strict=True)
        )
    if lever.http_task:  # every poll is a Wait, HttpPoll, Route round; no poll Lambda, no inline sleep
        return statistics.fmean(
            total(
                [
                    line
                    for line in per_video(
                        kind_of(o.job_class), o.polls, o.polls, 0.0, burst, lever.model, cold=not o.warm
                    )
                    if line.item != "Lambda poll"
                ]
            )
            for o in outcomes
        )
    return mean_cost(outcomes, burst, lever.model)  # the outcome says how it was watched (JobOutcome.watched)
