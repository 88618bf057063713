# Long file: every billed item of a month (fixed and per volume), each priced and sourced, reads best as one list
"""The whole AWS bill (issue 25): what the stack costs per month whether or not it works, read from the
synthesized template, and the volume-dependent parts of a video's cost (cold starts and their INIT time, X-Ray
sampling, secret reads, custom metrics' billed hours) at a given number of videos a month.

List prices, us-east-1, no free tier (BILL_PRICES, with where each one is from). Items of branches not merged
yet are counted as their briefs describe them (ASSUMED_*) and only while the template lacks them, so the model
follows the code once they land.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

MONTH_SECONDS = 30 * 24 * 3600
MONTH_HOURS = 30 * 24
VOLUMES = (100, 100_000)  # videos a month: a small user, a busy one (issue 25)

# Prices beyond benchmarks.pricing.PRICES: us-east-1 list prices, no free tier, as checked on PRICES_DATE.
BILL_PRICES = {
    "xray_trace_retrieved": 0.50 / 1e6,  # retrieved or scanned
    "cw_custom_metric_month": 0.30,  # first 10,000 metrics; prorated by the hour, billed in hours with data
    "cw_alarm_metric_month": 0.10,  # standard resolution, per metric the alarm evaluates
    "cw_dashboard_month": 3.00,
    "logs_storage_gb_month": 0.03,
    "kms_key_month": 1.00,
    "kms_request": 0.03 / 10000,
    "secret_month": 0.40,
    "scheduler_invocation": 1.00 / 1e6,
    "ddb_storage_gb_month": 0.25,
    "ddb_pitr_gb_month": 0.20,
    "eventbridge_archive_gb": 0.10,  # events archived
    "s3_storage_gb_month": 0.023,  # Standard, first 50 TB
}
PRICE_SOURCES = (
    (
        "Lambda arm64 GB-s, requests; INIT billed like the handler since 2025-08-01",
        "aws.amazon.com/lambda/pricing, AWS Compute Blog 'AWS Lambda standardizes billing for INIT Phase'",
    ),
    ("X-Ray $5.00 per million traces recorded, $0.50 per million retrieved or scanned", "aws.amazon.com/xray/pricing"),
    (
        "CloudWatch: custom metric $0.30 a month (hourly prorated), alarm $0.10 per metric, dashboard $3.00, logs "
        "$0.50 per GB ingested and $0.03 per GB-month stored",
        "aws.amazon.com/cloudwatch/pricing",
    ),
    ("KMS $1.00 per key-month, $0.03 per 10,000 requests", "aws.amazon.com/kms/pricing"),
    ("Secrets Manager $0.40 per secret-month, $0.05 per 10,000 API calls", "aws.amazon.com/secrets-manager/pricing"),
    (
        "EventBridge custom events $1.00 per million, archive $0.10 per GB; Scheduler $1.00 per million invocations",
        "aws.amazon.com/eventbridge/pricing",
    ),
    (
        "DynamoDB on-demand $0.625 per million WRU, $0.125 per million RRU, storage $0.25 and PITR $0.20 per GB-month",
        "aws.amazon.com/dynamodb/pricing/on-demand",
    ),
    ("S3 Standard $0.023 per GB-month, PUT $0.005 and GET $0.0004 per 1,000", "aws.amazon.com/s3/pricing"),
    (
        "SQS $0.40 per million requests; Step Functions Standard $0.025 per 1,000 transitions",
        "aws.amazon.com/sqs/pricing, aws.amazon.com/step-functions/pricing",
    ),
)

# ---- assumptions (stated on the page) -------------------------------------------------------------------------
KEEP_WARM_SECONDS = 300  # an idle execution environment is assumed reclaimed after 5 min (AWS publishes none)
RUNTIME_INIT_MS = 80.0  # the Python runtime's own start, before our import (not measured offline)
INIT_MS_FALLBACK = 250.0  # import + init when benchmark 3 did not run
SECRET_CACHE_SECONDS = 300  # i2v.adapters.secrets: a warm instance reads the key again after 5 min
# An SQS event source mapping long-polls its queue even when it is empty: at most about 5 pollers, each a 20 s
# ReceiveMessage (3 a minute). AWS does not publish the idle poller count: an upper bound.
IDLE_POLLERS = 5
IDLE_RECEIVES_PER_POLLER_MINUTE = 3
# X-Ray: Lambda's active tracing records the first request each second and 5 % of the others (per function).
XRAY_RESERVOIR_PER_SECOND = 1.0
XRAY_FIXED_RATE = 0.05
XRAY_RETRIEVALS_PER_TRACE = 1.0  # an upper bound: every recorded trace read once (console, API)
# Functions that read the GMI key from Secrets Manager (cached per instance); each read is one KMS Decrypt too.
SECRET_READERS = ("submit", "watch", "poll", "complete")
# Custom metrics a successful job emits (i2v.services: JobsSubmitted; JobsSucceeded, VideoBytes, GenerationSeconds)
# and Powertools' ColdStart of the submit function (capture_cold_start_metric).
METRICS_PER_JOB = 4
# The watch function's per-look claim (branch watch-path): one conditional UpdateItem on the job item per look and
# per hop. Its attributes as that branch writes them: names 51 B; watch_chain 16 hex; watch_look a small number
# (2 B); watch_message an SQS message id (36); watch_lease_until an epoch float (~9 B).
WATCH_CLAIM_BYTES = 51 + 16 + 2 + 36 + 9
# An index entry of a KEYS_ONLY or narrow INCLUDE projection: table keys + index keys (+ a number), < 1 KB.
NARROW_ENTRY_BYTES = 200
LOG_RECORD_BYTES = 400  # one S3 server access log record
SOURCE_IMAGE_BYTES = 1024 * 1024  # the uploaded image (for the storage note)
EVENT_BYTES = 1500  # one pipeline event, archived


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    non_key: tuple[str, ...] = ()

    def entry_bytes(self, item_bytes: int) -> int:
        return item_bytes if self.projection == "ALL" else NARROW_ENTRY_BYTES

    def projects(self, attributes: frozenset[str]) -> bool:
        """Whether a write of `attributes` (none of them this index's keys) changes this index's entry."""
        return self.projection == "ALL" or bool(attributes & set(self.non_key))


@dataclass(frozen=True)
class Sweeper:
    """A scheduled function and what one run costs when there is nothing to do."""

    runs_per_month: float
    memory_mb: int = 128
    run_ms: float = 300.0
    queries: int = 6  # one by-status Query per non-terminal status
    log_bytes: int = 1500
    traced: bool = True


@dataclass(frozen=True)
class StackFacts:
    """What the bill depends on, as the template builds it (default configuration)."""

    indexes: tuple[Index, ...]
    traced: frozenset[str]  # functions with Lambda active tracing
    memory_mb: Mapping[str, int]
    alarm_metrics: int
    dashboards: int
    kms_keys: int
    secrets: int
    polled_queues: int  # SQS queues an event source mapping polls
    sweeper: Sweeper | None
    watch_claims: bool  # the watch function claims each look (watch-path)
    platform_logs: bool = False  # Lambda's start/report lines reach CloudWatch (system log level INFO or DEBUG)
    claim_on_own_item: bool = False  # the claim on a small item of its own, not on the job item (a lever)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)


SWEEPER_HANDLER = "i2v.handlers.sweeper.handler"
SWEEP_RATE = re.compile(r"^rate\((?P<count>\d+) minutes?\)$")


def _sweeper(schedules: Mapping[str, Mapping[str, Any]], lambdas: Mapping[str, Mapping[str, Any]]) -> Sweeper:
    """The sweeper as the template schedules and sizes it (config sweep_interval_minutes)."""
    (schedule,) = [s["Properties"] for s in schedules.values()]
    rate = SWEEP_RATE.match(schedule["ScheduleExpression"])
    if rate is None:
        raise ValueError(f"the sweeper's schedule is not a rate in minutes: {schedule['ScheduleExpression']}")
    (function,) = [f["Properties"] for f in lambdas.values() if f["Properties"].get("Handler") == SWEEPER_HANDLER]
    return Sweeper(
        runs_per_month=MONTH_SECONDS / (int(rate["count"]) * 60),
        memory_mb=int(function.get("MemorySize", 128)),
        traced=function.get("TracingConfig", {}).get("Mode") == "Active",
    )


def _alarm_metric_count(props: Mapping[str, Any]) -> int:
    if "MetricName" in props:
        return 1
    return sum(1 for m in props.get("Metrics", []) if "MetricStat" in m) or 1


def _function_name(logical_id: str) -> str:
    from benchmarks.burst import _function_key

    return _function_key(logical_id)


def facts_of(template: Mapping[str, Any]) -> StackFacts:
    resources: dict[str, dict[str, Any]] = template["Resources"]

    def of_type(kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in resources.items() if v["Type"] == kind}

    (table,) = [
        t["Properties"]
        for t in of_type("AWS::DynamoDB::Table").values()
        if t["Properties"].get("GlobalSecondaryIndexes")
    ]
    indexes = tuple(
        Index(
            g["IndexName"],
            g["KeySchema"][0]["AttributeName"],
            g["KeySchema"][1]["AttributeName"],
            g["Projection"]["ProjectionType"],
            tuple(g["Projection"].get("NonKeyAttributes", ())),
        )
        for g in table["GlobalSecondaryIndexes"]
    )
    functions = {
        _function_name(k): v["Properties"]
        for k, v in of_type("AWS::Lambda::Function").items()
        if str(v["Properties"].get("Handler", "")).startswith("i2v.handlers.")
    }
    traced = frozenset(n for n, p in functions.items() if p.get("TracingConfig", {}).get("Mode") == "Active")
    alarms = [a["Properties"] for a in of_type("AWS::CloudWatch::Alarm").values()]
    alarm_metrics = sum(_alarm_metric_count(a) for a in alarms)
    sweeper = _sweeper(of_type("AWS::Scheduler::Schedule"), of_type("AWS::Lambda::Function"))
    queues = set(of_type("AWS::SQS::Queue"))
    polled = sum(
        1
        for m in of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"].get("EventSourceArn", {}).get("Fn::GetAtt", [None])[0] in queues
    )
    return StackFacts(
        indexes=indexes,
        traced=traced,
        memory_mb={n: int(p.get("MemorySize", 128)) for n, p in functions.items()},
        alarm_metrics=alarm_metrics,
        dashboards=len(of_type("AWS::CloudWatch::Dashboard")),
        kms_keys=len(of_type("AWS::KMS::Key")),
        secrets=len(of_type("AWS::SecretsManager::Secret")),
        polled_queues=polled,
        sweeper=sweeper,
        watch_claims=True,
        # System log level WARN filters Lambda's start and report lines (INFO) out of CloudWatch Logs.
        platform_logs=any(
            p.get("LoggingConfig", {}).get("SystemLogLevel", "INFO") != "WARN" for p in functions.values()
        ),
    )


@cache
def deployed_facts() -> StackFacts:
    """The facts of the synthesized app with cdk.json's (default) configuration."""
    from benchmarks.stepfunctions import deployed_template

    return facts_of(deployed_template())


# ---- the volume model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Volume:
    """A month of `videos` spread evenly (Poisson arrivals), each watched for about `span_seconds`."""

    videos: int
    span_seconds: float = 180.0
    init_ms: Mapping[str, float] = field(default_factory=dict)  # measured import + init per function

    @property
    def jobs_per_second(self) -> float:
        return self.videos / MONTH_SECONDS

    def cold_chance(self, function: str) -> float:
        """The chance that no other job left a warm instance of `function` (its span + the keep-warm time)."""
        window = KEEP_WARM_SECONDS + (self.span_seconds if function in ("watch", "poll") else 0.0)
        return math.exp(-self.jobs_per_second * window)

    def init_seconds(self, function: str) -> float:
        return (self.init_ms.get(function, INIT_MS_FALLBACK) + RUNTIME_INIT_MS) / 1000

    def sampled(self, roots_per_job: float) -> float:
        """Share of a function's root requests X-Ray records at this volume (reservoir 1/s + 5 %)."""
        rate = self.jobs_per_second * roots_per_job
        if rate <= 0:
            return 1.0
        reservoir = 1 - math.exp(-rate * 1.0 / XRAY_RESERVOIR_PER_SECOND)  # P(at least one request in a second)
        recorded = reservoir + XRAY_FIXED_RATE * (rate - reservoir)
        return min(1.0, recorded / rate)

    def secret_reads(self, function: str, invocations: float, cold: float) -> float:
        """Reads of the GMI key per job by `function`: at a cold start; at the job's first invocation of a warm
        instance whose copy is older than the cache period (the previous job came that long ago); and, for the
        function that watches, every cache period of a long watch, shared by the jobs watched at once."""
        if function not in SECRET_READERS or invocations <= 0:
            return 0.0
        gap = 1 / self.jobs_per_second if self.jobs_per_second else float(MONTH_SECONDS)
        warm = (1 - cold) * min(1.0, gap / SECRET_CACHE_SECONDS)
        if function in ("watch", "poll"):
            concurrent = max(1.0, self.jobs_per_second * self.span_seconds)
            warm += max(0.0, self.span_seconds - SECRET_CACHE_SECONDS) / SECRET_CACHE_SECONDS / concurrent
        return min(invocations, cold + warm)


# ---- DynamoDB writes, index by index --------------------------------------------------------------------------

TRANSITION_ATTRIBUTES = frozenset({"status", "updated_at", "timestamps", "gmi_status", "poll_count"})
ANNOTATION_ATTRIBUTES = frozenset({"announced", "execution_name"})
CLAIM_ATTRIBUTES = frozenset({"watch_chain", "watch_look", "watch_message", "watch_lease_until"})


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def job_write_units(
    facts: StackFacts, item_bytes: int, transitions: float, annotations: float, claims: float
) -> tuple[float, float]:
    """(table WRU, index WRU) of one job: the claim (a 2-item transaction at 2x), its status changes (each one
    moves the job in by-status: a delete and a put), the annotations and the watch claims (non-key attributes:
    an index that projects them rewrites its entry, a narrow one is not written)."""
    own = facts.claim_on_own_item
    claimed_item = item_bytes + (WATCH_CLAIM_BYTES if claims and not own else 0)
    # On its own item (< 1 KB, no index keys) a claim is 1 WRU; on the job item it rewrites the whole item.
    claim_units = 1 if own else _kb(claimed_item)
    table = 2 * (_kb(item_bytes) + 1) + (transitions + annotations) * _kb(claimed_item) + claims * claim_units
    index = 0.0
    for idx in facts.indexes:
        entry = _kb(idx.entry_bytes(claimed_item))
        if idx.name == "by-time-class":  # sparse: only the success writes its (narrow) entry
            index += entry
            continue
        index += entry  # the new job's entry
        keyed = {idx.hash_key, idx.range_key}
        if keyed & TRANSITION_ATTRIBUTES:
            index += transitions * 2 * entry  # a key change: delete + put
        elif idx.projects(TRANSITION_ATTRIBUTES):
            index += transitions * entry
        if idx.projects(ANNOTATION_ATTRIBUTES):
            index += annotations * entry
        if idx.projects(CLAIM_ATTRIBUTES) and not own:
            index += claims * entry
    return table, index


def index_read_bytes(facts: StackFacts, item_bytes: int) -> int:
    """Bytes one by-status entry returns to the cold-class history query."""
    found = facts.index("by-status")
    return found.entry_bytes(item_bytes) if found else item_bytes


# ---- what a stack costs per month, videos or not ----------------------------------------------------------------


@dataclass(frozen=True)
class MonthLine:
    item: str
    quantity: str
    dollars: float


def _idle_polls_per_month(facts: StackFacts) -> float:
    return facts.polled_queues * IDLE_POLLERS * IDLE_RECEIVES_PER_POLLER_MINUTE * MONTH_SECONDS / 60


def sweeper_month(sweeper: Sweeper, prices: Mapping[str, float], init_ms: float) -> float:
    """One month of sweeper runs with nothing to sweep: each run a Scheduler invocation and a cold start (runs are
    KEEP_WARM_SECONDS or more apart), its Queries (0.5 RRU each at least), its log lines and, traced, a trace."""
    runs = sweeper.runs_per_month
    gb_s = runs * sweeper.memory_mb / 1024 * (sweeper.run_ms + init_ms + RUNTIME_INIT_MS) / 1000
    return (
        runs
        * (
            BILL_PRICES["scheduler_invocation"]
            + prices["lambda_request"]
            + sweeper.queries * 0.5 * prices["ddb_read_unit"]
            + sweeper.log_bytes / 1024**3 * prices["logs_ingest_gb"]
            + (
                prices["xray_trace"] + XRAY_RETRIEVALS_PER_TRACE * BILL_PRICES["xray_trace_retrieved"]
                if sweeper.traced
                else 0
            )
        )
        + gb_s * prices["lambda_gb_second_arm64"]
    )


def metric_hours_share(events_per_month: float) -> float:
    """Share of a month's hours in which a metric emitted `events_per_month` times (evenly) has data."""
    return 1 - math.exp(-events_per_month / MONTH_HOURS)


def month_lines(facts: StackFacts, prices: Mapping[str, float], volume: Volume | None) -> list[MonthLine]:
    """The stack's monthly items, itemized: idle (`volume` None) or with `volume.videos` a month. Custom metrics
    are billed per metric for the hours in which it has data, so they grow with volume up to $0.30 a month each."""
    polls = _idle_polls_per_month(facts)
    lines = [
        MonthLine("KMS key (alarm topic)", f"{facts.kms_keys} key", facts.kms_keys * BILL_PRICES["kms_key_month"]),
        MonthLine("Secrets Manager (GMI key)", f"{facts.secrets} secret", facts.secrets * BILL_PRICES["secret_month"]),
        MonthLine(
            "CloudWatch alarms",
            f"{facts.alarm_metrics} alarm metrics",
            facts.alarm_metrics * BILL_PRICES["cw_alarm_metric_month"],
        ),
        MonthLine(
            "CloudWatch dashboard (opt-in: dashboard)",
            f"{facts.dashboards} dashboard",
            facts.dashboards * BILL_PRICES["cw_dashboard_month"],
        ),
        MonthLine(
            "SQS: empty long polls of the event source mappings (upper bound)",
            f"{facts.polled_queues} queues, {polls / 1e6:.2f} M ReceiveMessage",
            polls * prices["sqs_request"],
        ),
    ]
    if facts.sweeper is not None:
        init = volume.init_ms.get("fail", INIT_MS_FALLBACK) if volume else INIT_MS_FALLBACK
        lines.append(
            MonthLine(
                "sweeper: Scheduler, Lambda (INIT + run), Queries, logs" + (", X-Ray" if facts.sweeper.traced else ""),
                f"{facts.sweeper.runs_per_month:,.0f} runs",
                sweeper_month(facts.sweeper, prices, init),
            )
        )
    videos = volume.videos if volume else 0
    share = metric_hours_share(videos)
    cold_share = metric_hours_share(videos * volume.cold_chance("submit")) if volume else 0.0
    lines.append(
        MonthLine(
            "CloudWatch custom metrics (billed hours with data)",
            f"{METRICS_PER_JOB} x {share:.0%} + ColdStart x {cold_share:.0%} of the month",
            (METRICS_PER_JOB * share + cold_share) * BILL_PRICES["cw_custom_metric_month"],
        )
    )
    return lines


def month_total(lines: list[MonthLine]) -> float:
    return sum(line.dollars for line in lines)
