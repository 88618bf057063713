"""The price of one video: AWS list prices (benchmarks.prices) applied to the operations a job performs
(benchmarks 1 and 4).

Two designs are priced from a replayed job (benchmarks.policy.JobOutcome): the deployed one, whose looks are
watch-function invocations woken by delayed SQS messages while the Watch task waits on its token (one Watch
round), and the Wait -> Poll -> Route loop of the fixed 60 s baseline (and of the previous, inline-sleeping
design), priced per round as before. The functions' lines are in benchmarks.pricing_invocations, the kinds of
video and the levers in benchmarks.pricing_model; this module adds the data lines (DynamoDB, S3, SQS, EventBridge,
logs, storage) and the means over a replay.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from benchmarks.bill_facts import NARROW_ENTRY_BYTES
from benchmarks.bill_writes import WATCH_CLAIM_BYTES, index_read_bytes, job_write_units
from benchmarks.burst import BurstResult
from benchmarks.policy import JobOutcome
from benchmarks.prices import BILL_PRICES, PRICES
from benchmarks.pricing_invocations import Functions, volume_lines, watching_cost
from benchmarks.pricing_model import CostLine, CostModel, VideoKind, kind_of, progress_writes
from i2v.domain.polling import CLASS_HISTORY_LIMIT, MODEL_HISTORY_LIMIT

# Allowance for what the local run cannot show: GMI's video host.
VIDEO_MIB_PER_SECOND = 50.0
PLATFORM_LOG_BYTES = 600  # Lambda's platform.start / platform.report lines (JSON log format) per invocation
SFN_LOG_ENVELOPE_BYTES = 350  # per logged history event, besides the state's JSON
PART_SIZE = 8 * 1024 * 1024
# recent_generation_seconds: the class query reads the sparse index's narrow items (keys + one number, ~160 B);
# a cold class also reads the model's latest MODEL_HISTORY_LIMIT whole job items.
CLASS_INDEX_ITEM_BYTES = 160

# Status changes of every successful job besides GMI's progress: submitting, submitted, succeeded (the rest of
# the burst's UpdateItems are annotations: facts that change no status).
BASE_TRANSITIONS = 3
LOG_RETENTION_MONTHS = 1.0  # log_retention_days 30
ACCESS_LOG_RETENTION_MONTHS = 12.0  # access_log_retention_days 365
ARCHIVE_RETENTION_MONTHS = 3.0  # event_archive_retention_days 90
LOG_RECORD_BYTES = 400  # one S3 server access log record
SOURCE_IMAGE_BYTES = 1024 * 1024  # the uploaded image (for the storage note)
EVENT_BYTES = 1500  # one pipeline event, archived
AS_DEPLOYED = CostModel()  # the default: the code and the stack as deployed


def per_video(
    kind: VideoKind,
    polls: float,
    rounds: int,
    poll_seconds: float,
    burst: BurstResult,
    model: CostModel = AS_DEPLOYED,
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
    functions = Functions(burst, model)
    writes = progress_writes(polls, model)
    watching = watching_cost(functions, polls, rounds, poll_seconds, writes, watched, hops)
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
    lines += volume_lines(functions, volume, stack, watched, watching.invocations, hops)
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


def media_storage_per_month(kind: VideoKind) -> float:
    """$ a month to keep one video of `kind` and its source image in S3 Standard (your data, kept as you choose:
    not in the pipeline's cost per video)."""
    return (kind.video_bytes + SOURCE_IMAGE_BYTES) / 1024**3 * BILL_PRICES["s3_storage_gb_month"]


def total(lines: list[CostLine]) -> float:
    return sum(line.dollars for line in lines)


def of_job(outcome: JobOutcome, burst: BurstResult, model: CostModel = AS_DEPLOYED) -> float:
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


def mean_cost(outcomes: Sequence[JobOutcome], burst: BurstResult, model: CostModel = AS_DEPLOYED) -> float:
    """$ per video over the jobs of a replay: the mix's own shares of classes."""
    return statistics.fmean(of_job(o, burst, model) for o in outcomes)
