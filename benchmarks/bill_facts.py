"""What the bill depends on, read from the synthesized template (issue 25): the job table's indexes, the traced
functions and their memory, the alarms' metrics, keys, secrets, polled queues and the sweeper's schedule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from benchmarks.bill_volume import MONTH_SECONDS

# An index entry of a KEYS_ONLY or narrow INCLUDE projection: table keys + index keys (+ a number), < 1 KB.
NARROW_ENTRY_BYTES = 200


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
