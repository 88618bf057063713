"""The lines of a video's function invocations: each function's Lambda line from the burst's measurements and
the call allowances, what watching the job costs (the watch function on the queue, or the baseline's Wait ->
Poll -> Route rounds), and the lines that depend on the month's volume (cold starts, X-Ray, reads of the key)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.bill_facts import StackFacts
from benchmarks.bill_volume import XRAY_RETRIEVALS_PER_TRACE, Volume
from benchmarks.burst import BurstResult
from benchmarks.policy import POLL_OVERHEAD_SECONDS
from benchmarks.prices import BILL_PRICES, PRICES
from benchmarks.pricing_model import CostLine, CostModel
from benchmarks.stepfunctions import WorkflowCost, workflow_cost

# Allowances for what the local run cannot show: AWS API round trips in Lambda, GMI's API.
AWS_CALL_MS = 20.0
GMI_CALL_MS = 300.0
# The watch function's AWS calls per invocation: SendTaskHeartbeat, then SendMessage (the job sent on, delayed)
# or SendTaskSuccess (the verdict); a look's record writes come on top.
WATCH_AWS_CALLS = 2
# SQS requests per message of the watch queue: SendMessage (the first one by the Watch state), the event source
# mapping's ReceiveMessage and DeleteMessageBatch (a batch of one in steady traffic).
SQS_REQUESTS_PER_MESSAGE = 3
# S3's notification to the submit queue: S3's SendMessage, the poller's ReceiveMessage and DeleteMessageBatch.
SUBMIT_SQS_REQUESTS = 3
WATCH_MEMORY_MB = 128  # as built (i2v_infra.constructs.watcher); for a burst whose template had no watch function


@dataclass(frozen=True)
class Functions:
    """Memory and per-invocation duration (before the call allowances) of each function, from the burst."""

    burst: BurstResult
    model: CostModel

    def memory_mb(self, name: str) -> int:
        if name == "poll" and self.model.poll_memory_mb is not None:
            return self.model.poll_memory_mb
        return self.burst.memory_mb.get(name, WATCH_MEMORY_MB if name == "watch" else 256)

    def measured_ms(self, name: str) -> float:
        # One look is the same work in either function (a GET, maybe a record write): each is timed by the
        # other's measured median when the burst ran only one of them.
        found = self.burst.durations_ms
        other = {"watch": "poll", "poll": "watch"}.get(name, name)
        measured = found.get(name, found.get(other, 100.0))
        if name == "submit":  # one batch held several jobs locally; in steady traffic a batch is one job
            measured = measured * self.burst.submit_batches / max(1, self.burst.succeeded)
        elif name == "watch" and name in found:  # likewise: a batch of watch messages, each heartbeats once
            batches = self.burst.invocations.get("watch", 0)
            messages = self.burst.calls.get("stepfunctions:SendTaskHeartbeat", 0)
            measured = measured * min(1.0, batches / messages) if batches and messages else measured
        return measured

    def line(
        self, name: str, invocations: float, aws_calls: float, gmi_calls: float, extra_ms: float = 0.0
    ) -> CostLine:
        """`aws_calls`, `gmi_calls`, `extra_ms`: per invocation."""
        ms = self.measured_ms(name) + aws_calls * AWS_CALL_MS + gmi_calls * GMI_CALL_MS + extra_ms
        gb_s = invocations * self.memory_mb(name) / 1024 * ms / 1000
        dollars = gb_s * PRICES["lambda_gb_second_arm64"] + invocations * PRICES["lambda_request"]
        return CostLine(f"Lambda {name}", invocations, f"invocations, {ms:.0f} ms each", dollars)


@dataclass(frozen=True)
class Watching:
    """What watching one job costs besides the data lines: the poll and watch lines, its workflow, its SQS."""

    poll: CostLine
    watch: CostLine
    invocations: float  # of the poll or watch function
    workflow: WorkflowCost
    sqs_requests: float


def watching_cost(
    functions: Functions, polls: float, rounds: int, poll_seconds: float, writes: float, watched: bool, hops: float
) -> Watching:
    if watched:
        looks = max(1.0, polls)
        invocations = looks + hops
        # Every invocation heartbeats the token and sends the job on or answers it; a look also GETs and writes.
        watch = functions.line("watch", invocations, WATCH_AWS_CALLS + writes / invocations, looks / invocations)
        return Watching(
            functions.line("poll", 0.0, 0, 0),
            watch,
            invocations,
            workflow_cost(1, watch=True),
            SUBMIT_SQS_REQUESTS + SQS_REQUESTS_PER_MESSAGE * invocations,
        )
    rounds = max(1, rounds)
    # Each GET and record update is priced by the allowances; the rest of an invocation is its inline sleeps.
    poll = functions.line(
        "poll",
        rounds,
        writes / rounds,
        polls / rounds,
        extra_ms=max(0.0, poll_seconds - polls * POLL_OVERHEAD_SECONDS) * 1000 / rounds,
    )
    return Watching(
        poll, functions.line("watch", 0.0, 0, 0), rounds, workflow_cost(rounds, watch=False), SUBMIT_SQS_REQUESTS
    )


def volume_lines(
    functions: Functions, volume: Volume, stack: StackFacts, watched: bool, invocations: float, hops: float
) -> list[CostLine]:
    """INIT time of cold starts, X-Ray traces, reads of the GMI key: what a video costs depends on how many share
    the month (benchmarks.bill_volume.Volume)."""
    watcher = "watch" if watched else "poll"
    # Within a job the watch function is cold again after each hop (a wait of 900 s); the poll loop's rounds are
    # 60 s apart, warm after the first.
    cold = {
        "submit": volume.cold_chance("submit"),
        watcher: volume.cold_chance(watcher) * ((1 + hops) if watched else 1.0),
        "complete": volume.cold_chance("complete"),
    }
    gb_s = sum(n * functions.memory_mb(f) / 1024 * volume.init_seconds(f) for f, n in cold.items())
    # Each SQS-triggered invocation starts a trace (submit; each look when the watch function is traced); the
    # execution and its Lambda tasks join submit's trace.
    roots = {"submit": 1.0, **({"watch": invocations} if watched else {})}
    traces = sum(n * volume.sampled(n) for f, n in roots.items() if f in stack.traced)
    calls = {"submit": 1.0, watcher: invocations, "complete": 1.0}
    reads = sum(volume.secret_reads(f, calls[f], cold[f]) for f in cold)
    return [
        CostLine(
            "Lambda INIT (cold starts)",
            sum(cold.values()),
            f"cold starts at {volume.videos:,} videos a month",
            gb_s * PRICES["lambda_gb_second_arm64"],
        ),
        CostLine(
            "X-Ray",
            traces,
            "traces recorded (and read once)",
            traces * (PRICES["xray_trace"] + XRAY_RETRIEVALS_PER_TRACE * BILL_PRICES["xray_trace_retrieved"]),
        ),
        CostLine(
            "Secrets Manager + KMS",
            reads,
            "reads of the GMI key",
            reads * (PRICES["secrets_api_call"] + BILL_PRICES["kms_request"]),
        ),
    ]
