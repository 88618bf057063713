"""Benchmark 5: infrastructure cost per video, from the operations measured in benchmarks 1 and 4.

Prices: AWS public list prices, us-east-1, as checked on PRICES_DATE (no free tier applied).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.burst import BurstResult
from benchmarks.mix import DEFAULT_SIGMA
from benchmarks.policy import PolicyRun
from benchmarks.report import Benchmark, Row, Run, mark, md_table, ratio
from benchmarks.stepfunctions import transitions_for_polls

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
HISTORY_ITEMS = 200  # recent_generation_seconds reads the latest 200 successes


@dataclass(frozen=True)
class VideoKind:
    name: str
    job_class: str  # as in benchmarks.mix
    video_bytes: int  # assumed size of GMI's MP4


KINDS = (
    VideoKind("540p / 5 s", "540p/5s", 4 * 1024 * 1024),
    VideoKind("1080p / 5 s", "1080p/5s", 16 * 1024 * 1024),
)


@dataclass
class CostLine:
    item: str
    quantity: float
    unit: str
    dollars: float


def per_video(kind: VideoKind, polls: float, rounds: float, poll_seconds: float, burst: BurstResult) -> list[CostLine]:
    """Cost lines of one video of `kind` (benchmark 1, class means): `polls` GETs to GMI made in `rounds`
    poll invocations lasting `poll_seconds` in all (sleeps inside an invocation are billed too)."""
    jobs = max(1, burst.succeeded)
    per_job = {key: count / jobs for key, count in burst.calls.items()}
    burst_polls = burst.invocations.get("poll", 0) / jobs
    item_kb = max(1, math.ceil(burst.job_item_bytes / 1024))
    lines: list[CostLine] = []

    def lam(name: str, invocations: float, aws_calls: float, gmi_calls: float, extra_ms: float = 0.0) -> None:
        measured = burst.durations_ms.get(name, 100.0)
        if name == "submit":  # one batch held several jobs locally; in steady traffic a batch is one job
            measured = measured * burst.submit_batches / jobs
        ms = measured + aws_calls * AWS_CALL_MS + gmi_calls * GMI_CALL_MS + extra_ms
        gb_s = invocations * burst.memory_mb.get(name, 256) / 1024 * ms / 1000
        dollars = gb_s * PRICES["lambda_gb_second_arm64"] + invocations * PRICES["lambda_request"]
        lines.append(CostLine(f"Lambda {name}", invocations, f"invocations, {ms:.0f} ms each", dollars))

    # submit: HEAD, ranged GET, claim transaction, 3 updates, history query, PutEvents, StartExecution.
    lam("submit", 1.0, 9, 1)
    video_ms = kind.video_bytes / (VIDEO_MIB_PER_SECOND * 1024 * 1024) * 1000
    invocations_of_poll = max(1.0, rounds)
    # Each GET and record update is priced by the allowances; the rest of an invocation is its inline sleeps.
    lam(
        "poll",
        invocations_of_poll,
        polls / invocations_of_poll,
        polls / invocations_of_poll,
        extra_ms=max(0.0, poll_seconds - polls * 0.3) * 1000 / invocations_of_poll,
    )
    transitions = transitions_for_polls(round(invocations_of_poll)).transitions
    lam("complete", 1.0, 4, 1, extra_ms=video_ms)
    lines.append(CostLine("Step Functions", transitions, "state transitions", transitions * PRICES["sfn_transition"]))

    updates = per_job.get("dynamodb:UpdateItem", 0) - (burst_polls - 1) + (polls - 1)
    wru = 2 * (1 + item_kb) + updates * item_kb  # a transaction costs 2 WRU per KB per item
    lines.append(CostLine("DynamoDB writes", wru, "write request units", wru * PRICES["ddb_write_unit"]))
    query_ru = math.ceil(HISTORY_ITEMS * burst.job_item_bytes / 4096) * 0.5
    rru = query_ru + per_job.get("dynamodb:GetItem", 1.0) * math.ceil(burst.job_item_bytes / 4096)
    lines.append(CostLine("DynamoDB reads", rru, "read request units", rru * PRICES["ddb_read_unit"]))

    parts = math.ceil(kind.video_bytes / PART_SIZE)
    puts = 1 if kind.video_bytes < PART_SIZE else parts + 2  # create + parts + complete
    lines.append(CostLine("S3 PUT/LIST", puts, "requests", puts * PRICES["s3_put"]))
    gets = per_job.get("s3:HeadObject", 1) + per_job.get("s3:GetObject", 1) + 1  # + GMI's presigned GET
    lines.append(CostLine("S3 GET/HEAD", gets, "requests", gets * PRICES["s3_get"]))
    sqs = 3.0  # S3's SendMessage, the poller's ReceiveMessage and DeleteMessageBatch (a batch of one)
    lines.append(CostLine("SQS", sqs, "requests", sqs * PRICES["sqs_request"]))
    events = per_job.get("events:PutEvents", 2)
    lines.append(CostLine("EventBridge", events, "custom events", events * PRICES["eventbridge_event"]))

    invocations = 1 + invocations_of_poll + 1
    handler_log = burst.log_bytes / max(1, sum(burst.invocations.values()))
    history_events = transitions_for_polls(round(invocations_of_poll)).history_events
    log_bytes = invocations * (handler_log + PLATFORM_LOG_BYTES) + history_events * (
        SFN_LOG_ENVELOPE_BYTES + burst.execution_input_bytes
    )
    lines.append(
        CostLine("CloudWatch Logs", log_bytes / 1024, "KiB ingested", log_bytes / 1024**3 * PRICES["logs_ingest_gb"])
    )
    lines.append(CostLine("X-Ray", 1, "trace (upper bound: all sampled)", PRICES["xray_trace"]))
    return lines


def total(lines: list[CostLine]) -> float:
    return sum(line.dollars for line in lines)


# ---- the benchmark: result, summary rows, section -----------------------------------------------------------

BASELINE_SUFFIX = ", fixed 60 s baseline"


@dataclass
class Costs:
    lines: dict[str, list[CostLine]]  # "<kind>" and "<kind>, fixed 60 s baseline" -> cost lines
    job_item_bytes: int


def measure(bench: Run) -> Costs:
    policies = bench.require("policy", PolicyRun)
    burst = bench.require("burst", BurstResult)
    ours, fixed_60 = policies.by_sigma[DEFAULT_SIGMA][:2]
    lines = {}
    for kind in KINDS:
        for label, result in ((kind.name, ours), (kind.name + BASELINE_SUFFIX, fixed_60)):
            lines[label] = per_video(
                kind,
                result.mean_of(kind.job_class, "polls"),
                result.mean_of(kind.job_class, "rounds"),
                result.mean_of(kind.job_class, "invocation_seconds"),
                burst,
            )
    return Costs(lines, burst.job_item_bytes)


def rows(bench: Run) -> list[Row]:
    found = bench.result("cost", Costs)
    if found is None:
        return []
    out = []
    for kind in KINDS:
        ours_total = total(found.lines[kind.name])
        base_total = total(found.lines[kind.name + BASELINE_SUFFIX])
        out.append(
            Row(
                f"{kind.name}: infrastructure $ per video",
                f"{ours_total:.5f}",
                f"{base_total:.5f} (fixed 60 s)",
                ratio(ours_total, base_total),
                "<= $0.001",
                mark(ours_total <= 0.001),
            )
        )
    return out


def section(bench: Run) -> list[str]:
    found = bench.result("cost", Costs)
    if found is None:
        return []
    out = [
        f"Public AWS list prices, us-east-1, as of {PRICES_DATE} (no free tier): Lambda arm64 "
        "$0.0000133334 per GB-s and $0.20 per million requests; Step Functions Standard $0.025 per 1,000 state "
        "transitions; DynamoDB on-demand $0.625 per million write request units, $0.125 per million read request "
        "units; S3 PUT $0.005 per 1,000, GET $0.0004 per 1,000; SQS $0.40 per million requests; EventBridge custom "
        "events $1.00 per million; CloudWatch Logs ingestion $0.50 per GB; X-Ray $5.00 per million traces; Secrets "
        "Manager $0.05 per 10,000 API calls (the key is cached 300 s per warm instance: ~0 per video). Check current "
        "prices before relying on these.",
        "",
        "Quantities: polls per job = the class mean of benchmark 1 (ours, sigma 0.25); AWS requests per job as "
        "counted in benchmark 4 and read from the code paths; DynamoDB units from the measured job item size "
        f"({found.job_item_bytes} B; updates bill the whole item; the claim is a "
        "2-item transaction at 2x; the history query reads the latest 200 job items eventually consistent); "
        f"Lambda memory from the template; durations = local median + {AWS_CALL_MS:.0f} ms per AWS call + "
        f"{GMI_CALL_MS:.0f} ms per GMI call + video at {VIDEO_MIB_PER_SECOND:.0f} MiB/s (assumptions: "
        "real latencies differ); assumed GMI MP4 sizes 4 MiB (540p/5 s) and 16 MiB (1080p/5 s); SQS as a batch of "
        "one (steady traffic); logs = handler output measured in benchmark 4 + Lambda platform lines + the state "
        "machine's ALL-level execution log. Storage of the video and INIT-phase billing of cold starts are not "
        "included. GMI's generation price is not known offline: see GMI Cloud's pricing page for pixverse-v5.5-i2v "
        "(540p/5 s and 1080p/5 s); it dwarfs every line below. Short waits are slept inside the poll invocation "
        "(PollPolicy.inline_max_wait_seconds / inline_budget_seconds), billed as Lambda time instead of Wait, Poll, "
        "Route state transitions.",
        "",
    ]
    header = ["line", *found.lines.keys()]
    items = [line.item for line in next(iter(found.lines.values()))]
    body = []
    for index, item in enumerate(items):
        row = [item]
        for lines in found.lines.values():
            line = lines[index]
            row.append(f"${line.dollars:.6f} ({line.quantity:.1f} {line.unit})")
        body.append(row)
    body.append(["**total**", *(f"**${total(lines):.5f}**" for lines in found.lines.values())])
    body.append(["GMI generation", *("see GMI pricing" for _ in found.lines)])
    return [*out, md_table(header, body), ""]


BENCHMARK = Benchmark("cost", "cost", "Cost per video", measure, rows, section, needs=("policy", "burst"))
