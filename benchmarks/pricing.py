# Long file: the one per-video cost model (every AWS operation of a job, priced) reads best in one place
"""The price of one video: AWS list prices applied to the operations a job performs (benchmarks 1 and 4).

Prices: AWS public list prices, us-east-1, as checked on PRICES_DATE (no free tier applied).

Two designs are priced from a replayed job (benchmarks.policy.JobOutcome): the deployed one, whose looks are
watch-function invocations woken by delayed SQS messages while the Watch task waits on its token (one Watch
round), and the Wait -> Poll -> Route loop of the fixed 60 s baseline (and of the previous, inline-sleeping
design), priced per round as before.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from benchmarks import mix
from benchmarks.bill import (
    BILL_PRICES,
    EVENT_BYTES,
    LOG_RECORD_BYTES,
    NARROW_ENTRY_BYTES,
    SOURCE_IMAGE_BYTES,
    VOLUMES,
    WATCH_CLAIM_BYTES,
    XRAY_RETRIEVALS_PER_TRACE,
    StackFacts,
    Volume,
    deployed_facts,
    index_read_bytes,
    job_write_units,
)
from benchmarks.burst import BurstResult
from benchmarks.policy import POLL_OVERHEAD_SECONDS, JobOutcome
from benchmarks.stepfunctions import WorkflowCost, workflow_cost
from i2v.domain.catalog import DEFAULT_MODEL_ID
from i2v.domain.polling import CLASS_HISTORY_LIMIT, MODEL_HISTORY_LIMIT

PRICES_DATE = "2026-01"
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "sfn_transition": 0.025 / 1000,
    "ddb_write_unit": 0.625 / 1e6,
    "ddb_read_unit": 0.125 / 1e6,
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "sqs_request": 0.40 / 1e6,
    "eventbridge_event": 1.00 / 1e6,
    "logs_ingest_gb": 0.50,
    "xray_trace": 5.00 / 1e6,
    "secrets_api_call": 0.05 / 10000,
}
# Allowances for what the local run cannot show: AWS API round trips in Lambda, GMI's API, GMI's video host.
AWS_CALL_MS = 20.0
GMI_CALL_MS = 300.0
VIDEO_MIB_PER_SECOND = 50.0
PLATFORM_LOG_BYTES = 600  # Lambda's platform.start / platform.report lines (JSON log format) per invocation
SFN_LOG_ENVELOPE_BYTES = 350  # per logged history event, besides the state's JSON
PART_SIZE = 8 * 1024 * 1024
# recent_generation_seconds: the class query reads the sparse index's narrow items (keys + one number, ~160 B);
# a cold class also reads the model's latest MODEL_HISTORY_LIMIT whole job items.
CLASS_INDEX_ITEM_BYTES = 160
PROGRESS_CHANGES = 2  # a waiting job's GMI status changes at most twice (queued, then processing)
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
class VideoKind:
    name: str
    job_class: str  # as in benchmarks.mix
    video_bytes: int  # assumed size of GMI's MP4


KINDS = (
    VideoKind("540p / 5 s", f"{DEFAULT_MODEL_ID} 540p/5", 4 * 1024 * 1024),
    VideoKind("1080p / 5 s", f"{DEFAULT_MODEL_ID} 1080p/5", 16 * 1024 * 1024),
)
BASE_VIDEO_BYTES = 4 * 1024 * 1024  # 540p / 5 s


@cache
def _classes_by_name() -> dict[str, mix.JobClass]:
    return {c.name: c for c in mix.job_classes()}


@cache
def kind_of(job_class: str) -> VideoKind:
    """Any class of the mix: its MP4 assumed to grow with pixels x seconds from 4 MiB at 540p / 5 s."""
    known = _classes_by_name().get(job_class)
    factor = (known.height / 540) ** 2 * known.seconds / 5 if known else 1.0
    return VideoKind(job_class, job_class, int(BASE_VIDEO_BYTES * factor))


# Status changes of every successful job besides GMI's progress: submitting, submitted, succeeded (the rest of
# the burst's UpdateItems are annotations: facts that change no status).
BASE_TRANSITIONS = 3
LOG_RETENTION_MONTHS = 1.0  # log_retention_days 30
ACCESS_LOG_RETENTION_MONTHS = 12.0  # access_log_retention_days 365
ARCHIVE_RETENTION_MONTHS = 3.0  # event_archive_retention_days 90


@dataclass(frozen=True)
class CostModel:
    """What the code does that the price depends on, beyond the replayed polls (the levers of issues 14 and 25)."""

    poll_memory_mb: int | None = None  # None: as in the synthesized template
    write_every_poll: bool = False  # True: every waiting poll updated the job record (before issue 14)
    facts: StackFacts | None = None  # None: the synthesized template's (benchmarks.bill.deployed_facts)
    videos_per_month: int = VOLUMES[0]
    init_ms: tuple[tuple[str, float], ...] = ()  # measured import + init per function (benchmark 3)

    @property
    def stack(self) -> StackFacts:
        return self.facts if self.facts is not None else deployed_facts()

    def volume(self, span_seconds: float) -> Volume:
        return Volume(self.videos_per_month, span_seconds, dict(self.init_ms))


def progress_writes(polls: float, model: CostModel) -> float:
    """Record updates by the waiting polls of a job that GMI finished by its `polls`-th poll."""
    waiting = max(0.0, polls - 1)
    return waiting if model.write_every_poll else min(waiting, PROGRESS_CHANGES)


@dataclass
class CostLine:
    item: str
    quantity: float
    unit: str
    dollars: float


@dataclass(frozen=True)
class _Functions:
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
class _Watching:
    """What watching one job costs besides the data lines: the poll and watch lines, its workflow, its SQS."""

    poll: CostLine
    watch: CostLine
    invocations: float  # of the poll or watch function
    workflow: WorkflowCost
    sqs_requests: float


def _watching(
    functions: _Functions, polls: float, rounds: int, poll_seconds: float, writes: float, watched: bool, hops: float
) -> _Watching:
    if watched:
        looks = max(1.0, polls)
        invocations = looks + hops
        # Every invocation heartbeats the token and sends the job on or answers it; a look also GETs and writes.
        watch = functions.line("watch", invocations, WATCH_AWS_CALLS + writes / invocations, looks / invocations)
        return _Watching(
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
    return _Watching(
        poll, functions.line("watch", 0.0, 0, 0), rounds, workflow_cost(rounds, watch=False), SUBMIT_SQS_REQUESTS
    )


def per_video(
    kind: VideoKind,
    polls: float,
    rounds: int,
    poll_seconds: float,
    burst: BurstResult,
    model: CostModel = CostModel(),
    cold: bool = False,
    watched: bool = False,
    hops: float = 0.0,
    span_seconds: float = 180.0,
) -> list[CostLine]:
    """Cost lines of one video of `kind`, GMI looked at `polls` times (a `cold` class also reads the model's
    recent successes at submit).

    `watched` (deployed): each look and each of the `hops` (a wait longer than SQS can delay, sent on without a
    GET) is one watch-function invocation woken by a delayed SQS message; one Watch round through the state
    machine. Else: `rounds` Wait -> Poll -> Route rounds whose poll invocations last `poll_seconds` in all
    (sleeps inside an invocation are billed too). Both designs list the same lines (the unused function at 0)."""
    jobs = max(1, burst.succeeded)
    per_job = {key: count / jobs for key, count in burst.calls.items()}
    # The burst's own looks per job (GMI at zero generation time), whichever function made them.
    burst_polls = (burst.invocations.get("poll", 0) + burst.invocations.get("watch", 0)) / jobs
    functions = _Functions(burst, model)
    writes = progress_writes(polls, model)
    watching = _watching(functions, polls, rounds, poll_seconds, writes, watched, hops)
    video_ms = kind.video_bytes / (VIDEO_MIB_PER_SECOND * 1024 * 1024) * 1000
    workflow = watching.workflow
    lines = [
        # submit: HEAD, ranged GET, claim transaction, 3 updates, history query, PutEvents, StartExecution.
        functions.line("submit", 1.0, 9, 1),
        watching.poll,
        watching.watch,
        functions.line("complete", 1.0, 4, 1, extra_ms=video_ms),
        CostLine(
            "Step Functions", workflow.transitions, "state transitions", workflow.transitions * PRICES["sfn_transition"]
        ),
    ]

    stack = model.stack
    volume = model.volume(span_seconds)
    claims = watching.invocations if watched and stack.watch_claims else 0.0
    # The burst's UpdateItems: status changes, annotations and (once the watch claims its looks) one claim per
    # watch invocation.
    burst_claims = burst.invocations.get("watch", 0) / jobs if _repository_claims_looks() else 0.0
    annotations = max(
        0.0,
        per_job.get("dynamodb:UpdateItem", 0) - progress_writes(burst_polls, model) - BASE_TRANSITIONS - burst_claims,
    )
    table_wru, index_wru = job_write_units(stack, burst.job_item_bytes, BASE_TRANSITIONS + writes, annotations, claims)
    lines.append(
        CostLine("DynamoDB writes: table", table_wru, "write request units", table_wru * PRICES["ddb_write_unit"])
    )
    lines.append(
        CostLine("DynamoDB writes: indexes", index_wru, "write request units", index_wru * PRICES["ddb_write_unit"])
    )
    query_ru = math.ceil(CLASS_HISTORY_LIMIT * CLASS_INDEX_ITEM_BYTES / 4096) * 0.5
    if cold:
        query_ru += math.ceil(MODEL_HISTORY_LIMIT * index_read_bytes(stack, burst.job_item_bytes) / 4096) * 0.5
    rru = query_ru + per_job.get("dynamodb:GetItem", 1.0) * math.ceil(burst.job_item_bytes / 4096)
    lines.append(CostLine("DynamoDB reads", rru, "read request units", rru * PRICES["ddb_read_unit"]))

    parts = math.ceil(kind.video_bytes / PART_SIZE)
    puts = 1 if kind.video_bytes < PART_SIZE else parts + 2  # create + parts + complete
    lines.append(CostLine("S3 PUT/LIST", puts, "requests", puts * PRICES["s3_put"]))
    gets = per_job.get("s3:HeadObject", 1) + per_job.get("s3:GetObject", 1) + 1  # + GMI's presigned GET
    lines.append(CostLine("S3 GET/HEAD", gets, "requests", gets * PRICES["s3_get"]))
    sqs = watching.sqs_requests
    lines.append(CostLine("SQS", sqs, "requests", sqs * PRICES["sqs_request"]))
    events = per_job.get("events:PutEvents", 2)
    lines.append(CostLine("EventBridge", events, "custom events", events * PRICES["eventbridge_event"]))

    invocations = 1 + watching.invocations + 1  # submit, the watching function, complete
    handler_log = burst.log_bytes / max(1, sum(burst.invocations.values()))
    platform = PLATFORM_LOG_BYTES if stack.platform_logs else 0
    log_bytes = invocations * (handler_log + platform) + workflow.history_events * (
        SFN_LOG_ENVELOPE_BYTES + burst.execution_input_bytes
    )
    lines.append(
        CostLine("CloudWatch Logs", log_bytes / 1024, "KiB ingested", log_bytes / 1024**3 * PRICES["logs_ingest_gb"])
    )
    lines += _volume_lines(functions, volume, stack, watched, watching.invocations, hops)
    stored = (
        burst.job_item_bytes
        + (WATCH_CLAIM_BYTES if claims else 0)
        + NARROW_ENTRY_BYTES  # the LATEST pointer (or the claim's own item)
        + sum(i.entry_bytes(burst.job_item_bytes) for i in stack.indexes)
    )
    monthly = (
        log_bytes * BILL_PRICES["logs_storage_gb_month"] * LOG_RETENTION_MONTHS
        + stored * (BILL_PRICES["ddb_storage_gb_month"] + BILL_PRICES["ddb_pitr_gb_month"])
        + events
        * EVENT_BYTES
        * (BILL_PRICES["eventbridge_archive_gb"] + BILL_PRICES["s3_storage_gb_month"] * ARCHIVE_RETENTION_MONTHS)
        + (puts + gets) * LOG_RECORD_BYTES * BILL_PRICES["s3_storage_gb_month"] * ACCESS_LOG_RETENTION_MONTHS
    ) / 1024**3
    lines.append(
        CostLine(
            "storage: logs, job record + PITR, event archive, S3 access logs",
            stored / 1024,
            "KiB of record (record kept a month, the rest their retention)",
            monthly,
        )
    )
    return lines


def _repository_claims_looks() -> bool:
    """Whether the watch function claims each look on the job item (branch watch-path), so the burst counted it."""
    from i2v.adapters.repository import JobRepository

    return hasattr(JobRepository, "claim_look")


def _volume_lines(
    functions: _Functions, volume: Volume, stack: StackFacts, watched: bool, invocations: float, hops: float
) -> list[CostLine]:
    """INIT time of cold starts, X-Ray traces, reads of the GMI key: what a video costs depends on how many share
    the month (benchmarks.bill.Volume)."""
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


def media_storage_per_month(kind: VideoKind) -> float:
    """$ a month to keep one video of `kind` and its source image in S3 Standard (your data, kept as you choose:
    not in the pipeline's cost per video)."""
    return (kind.video_bytes + SOURCE_IMAGE_BYTES) / 1024**3 * BILL_PRICES["s3_storage_gb_month"]


def total(lines: list[CostLine]) -> float:
    return sum(line.dollars for line in lines)


def of_job(outcome: JobOutcome, burst: BurstResult, model: CostModel = CostModel()) -> float:
    kind = kind_of(outcome.job_class)
    return total(
        per_video(
            kind,
            outcome.polls,
            outcome.rounds,
            outcome.invocation_seconds,
            burst,
            model,
            not outcome.warm,
            outcome.watched,
            outcome.hops,
            span_of(outcome),
        )
    )


def span_of(outcome: JobOutcome) -> float:
    """How long the job was watched: from its submission to the look that saw it done."""
    return max(0.0, outcome.done_at - outcome.arrival)


def mean_cost(outcomes: Sequence[JobOutcome], burst: BurstResult, model: CostModel = CostModel()) -> float:
    """$ per video over the jobs of a replay: the mix's own shares of classes."""
    return statistics.fmean(of_job(o, burst, model) for o in outcomes)
