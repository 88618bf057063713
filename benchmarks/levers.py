"""The levers of issue 14: each one measured by replaying the policy it implies, priced by the cost model."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from benchmarks.burst import BurstResult
from benchmarks.policy import JobOutcome
from benchmarks.pricing import (
    AWS_CALL_MS,
    GMI_CALL_MS,
    PLATFORM_LOG_BYTES,
    PRICES,
    CostModel,
    kind_of,
    mean_cost,
    of_job,
    per_video,
    progress_writes,
    total,
)

# The defaults before issue 14, for the "before" row: 256 MB, short waits only inline, one record write per poll.
BEFORE = {"inline_max_wait_seconds": 10, "inline_budget_seconds": 60, "early_quantile": 0.01}


@dataclass(frozen=True)
class Lever:
    name: str
    policy: dict[str, float]  # PollPolicy fields over the deployed ones
    model: CostModel
    shared_poller: bool = False  # modelled, not built: one invocation polls every due job
    http_task: bool = False  # modelled, not built: each poll a Step Functions HTTP task (no Lambda)
    sqs_looks: bool = False  # modelled, not built: each look a Lambda invocation woken by a delayed SQS message
    on_fixed_60: bool = False  # price the fixed 60 s schedule's own jobs (its lag) instead of our policy's
    true_window: bool = False  # a bound: every class's real window known, no learning error


LEVERS = (
    Lever(
        "before: 256 MB, inline waits <= 10 s for <= 60 s, first look at p1, a record write per poll",
        BEFORE,
        CostModel(poll_memory_mb=256, write_every_poll=True),
    ),
    Lever("+ poll function at 128 MB", BEFORE, CostModel(poll_memory_mb=128, write_every_poll=True)),
    Lever(
        "+ inline waits priced: <= 45 s, for <= 600 s",
        {**BEFORE, "inline_max_wait_seconds": 45, "inline_budget_seconds": 600},
        CostModel(write_every_poll=True),
    ),
    Lever("+ record written only when GMI's status changes", {"early_quantile": 0.01}, CostModel()),
    Lever("+ first look at p3 of the learned window (deployed)", {}, CostModel()),
    Lever(
        "bound, not a policy: each class's true window known (no learning error), first look at p3",
        {},
        CostModel(),
        true_window=True,
    ),
    Lever(
        "bound, not a policy: true windows, first look at p4.5 (lag p95 near its 6 s limit)",
        {"early_quantile": 0.045},
        CostModel(),
        true_window=True,
    ),
    Lever("modelled, not built: one poller for every due job (task tokens)", {}, CostModel(), shared_poller=True),
    Lever(
        "modelled, not built: Step Functions HTTP task per poll",
        {"inline_max_wait_seconds": 0},
        CostModel(),
        http_task=True,
    ),
    Lever(
        "modelled, not built: each look woken by a delayed SQS message (task token), lag + SQS delivery",
        {},
        CostModel(),
        sqs_looks=True,
    ),
    Lever(
        "modelled, not built: the fixed 60 s schedule also by delayed SQS messages (what that baseline becomes)",
        {},
        CostModel(),
        sqs_looks=True,
        on_fixed_60=True,
    ),
)
# Assumed, not measured: a delayed SQS message reaches the polling Lambda (long-polling event source mapping)
# within this long of its delay; added to the replayed lag of the SQS-look levers.
SQS_DELIVERY_SECONDS = 1.0


def sqs_look_cost(outcome: JobOutcome, burst: BurstResult, model: CostModel) -> float:
    """One job whose looks are each a 128 MB Lambda invocation woken by a delayed SQS message: no inline sleep.
    The workflow makes one round (its Watch task waits on a task token in place of Wait, Poll, Route)."""
    looks = max(1, outcome.polls)
    kind = kind_of(outcome.job_class)
    lines = per_video(kind, looks, 1, 0.0, burst, model, cold=not outcome.warm)
    writes = progress_writes(looks, model)
    # each look: its GET, its share of the record writes, and the SendMessage that schedules the next one
    ms = burst.durations_ms.get("poll", 100.0) + GMI_CALL_MS + AWS_CALL_MS * (1 + writes / looks)
    invocation = 128 / 1024 * ms / 1000 * PRICES["lambda_gb_second_arm64"] + PRICES["lambda_request"]
    handler_log = burst.log_bytes / max(1, sum(burst.invocations.values()))
    extra_logs = (looks - 1) * (handler_log + PLATFORM_LOG_BYTES)  # per_video counted one poll invocation
    return (
        total([line for line in lines if line.item != "Lambda poll"])
        + looks * invocation
        + 3 * looks * PRICES["sqs_request"]  # SendMessage (delayed), ReceiveMessage, DeleteMessage
        + extra_logs / 1024**3 * PRICES["logs_ingest_gb"]
    )


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
    if lever.sqs_looks:
        return statistics.fmean(sqs_look_cost(o, burst, lever.model) for o in outcomes)
    if lever.shared_poller:
        shares = shared_seconds(outcomes)
        return statistics.fmean(
            of_job(replace(o, rounds=1, invocation_seconds=share + o.polls * 0.3), burst, lever.model)
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
    return mean_cost(outcomes, burst, lever.model)
