"""The whole AWS bill (issue 25): what the stack costs per month whether or not it works, from the stack's facts
(benchmarks.bill_facts, read from the synthesized template) and, at a given volume, the custom metrics' billed
hours. The volume-dependent parts of a video's cost are in benchmarks.bill_volume, its DynamoDB units in
benchmarks.bill_writes, the prices and their sources in benchmarks.prices (list prices, us-east-1, no free tier).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from benchmarks.bill_facts import StackFacts, Sweeper
from benchmarks.bill_volume import (
    INIT_MS_FALLBACK,
    MONTH_SECONDS,
    RUNTIME_INIT_MS,
    XRAY_RETRIEVALS_PER_TRACE,
    Volume,
)
from benchmarks.prices import BILL_PRICES

MONTH_HOURS = 30 * 24
# An SQS event source mapping long-polls its queue even when it is empty: at most about 5 pollers, each a 20 s
# ReceiveMessage (3 a minute). AWS does not publish the idle poller count: an upper bound.
IDLE_POLLERS = 5
IDLE_RECEIVES_PER_POLLER_MINUTE = 3
# Custom metrics a successful job emits (i2v.services: JobsSubmitted; JobsSucceeded, VideoBytes, GenerationSeconds)
# and Powertools' ColdStart of the submit function (capture_cold_start_metric).
METRICS_PER_JOB = 4


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
