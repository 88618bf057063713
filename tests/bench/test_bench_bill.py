"""The whole-bill model (benchmarks.bill and its parts, issue 25): what it reads from the template, and the rules
it prices by."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from benchmarks import bill, bill_facts
from benchmarks.bill_facts import Index, StackFacts
from benchmarks.bill_section import IDLE_TARGET
from benchmarks.bill_volume import Volume
from benchmarks.bill_writes import job_write_units
from benchmarks.prices import PRICES
from benchmarks.stepfunctions import deployed_template

pytestmark = pytest.mark.xdist_group("bench")

WIDE = (
    Index("by-source", "source_id", "created_at", "ALL"),
    Index("by-status", "status", "updated_at", "ALL"),
    Index("by-time-class", "history_key", "updated_at", "INCLUDE", ("generation_seconds",)),
)
NARROW = (
    Index("by-source", "source_id", "created_at", "KEYS_ONLY"),
    Index("by-status", "status", "updated_at", "INCLUDE", ("model", "generation_seconds")),
    WIDE[2],
)


def _facts(indexes: tuple[Index, ...] = NARROW, **changes: object) -> StackFacts:
    base = StackFacts(
        indexes=indexes,
        traced=frozenset({"submit", "complete"}),
        memory_mb={"watch": 128},
        alarm_metrics=10,
        dashboards=0,
        kms_keys=1,
        secrets=1,
        polled_queues=2,
        sweeper=None,
        watch_claims=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_deployed_template_is_read_as_built() -> None:
    facts = bill_facts.deployed_facts()
    assert "watch" not in facts.traced
    assert {"submit", "complete"} <= facts.traced
    assert facts.dashboards == 0  # opt-in
    assert facts.polled_queues == 2  # the submit and watch queues' event source mappings
    assert facts.kms_keys == 0  # the alarm topic's key is opt-in (alarm_topic_cmk)
    assert facts.secrets == 1
    assert {i.name: i.projection for i in facts.indexes} == {
        "by-source": "KEYS_ONLY",
        "by-status": "INCLUDE",
        "by-time-class": "INCLUDE",
    }
    assert not facts.platform_logs  # system log level WARN: no start/report lines
    # The sweeper as scheduled and sized (it was an assumed 5 minutes and 128 MB until its branch merged).
    assert facts.sweeper is not None
    assert (facts.sweeper.runs_per_month, facts.sweeper.memory_mb, facts.sweeper.traced) == (30 * 24 * 12, 256, True)


def test_the_sweepers_rate_and_size_come_from_the_template() -> None:
    template = copy.deepcopy(deployed_template())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Scheduler::Schedule":
            resource["Properties"]["ScheduleExpression"] = "rate(15 minutes)"
        if resource["Properties"].get("Handler") == "i2v.handlers.sweeper.handler":
            resource["Properties"]["MemorySize"] = 512
    sweeper = bill_facts.facts_of(template).sweeper
    assert sweeper is not None
    assert (sweeper.runs_per_month, sweeper.memory_mb) == (30 * 24 * 4, 512)


def test_the_idle_stack_costs_at_most_three_dollars_a_month() -> None:
    lines = bill.month_lines(bill_facts.deployed_facts(), PRICES, None)
    assert bill.month_total(lines) <= IDLE_TARGET
    assert {line.item for line in lines if line.dollars == 0} >= {"CloudWatch custom metrics (billed hours with data)"}


def test_a_wide_index_rewrites_its_entry_on_every_write_a_narrow_one_only_on_key_changes() -> None:
    wide_table, wide_index = job_write_units(_facts(WIDE), 1900, transitions=5, annotations=1, claims=10)
    table, index = job_write_units(_facts(NARROW), 1900, transitions=5, annotations=1, claims=10)
    assert wide_table == table
    # narrow: the new entries (1 each in by-source and by-status), a delete + put per status change, the success
    assert index == 1 + 1 + 5 * 2 + 1
    # wide: 2 KB entries, rewritten by every transition (by-source), annotation and claim (both)
    assert wide_index == 2 + 2 + 5 * 2 * 2 + 5 * 2 + 1 * 2 * 2 + 10 * 2 * 2 + 1


def test_a_claim_on_its_own_item_is_one_unit_whatever_the_job_item_weighs() -> None:
    on_job, _ = job_write_units(_facts(), 2500, transitions=0, annotations=0, claims=10)
    own, _ = job_write_units(_facts(claim_on_own_item=True), 2500, transitions=0, annotations=0, claims=10)
    assert on_job - own == 10 * (3 - 1)


def test_xray_records_every_request_when_rare_and_about_five_percent_when_busy() -> None:
    assert Volume(100).sampled(20) == pytest.approx(1.0, abs=1e-3)
    busy = Volume(100_000_000).sampled(20)
    assert 0.05 < busy < 0.06


def test_a_small_volume_starts_every_function_cold_a_large_one_almost_never() -> None:
    assert Volume(100).cold_chance("submit") > 0.98
    assert Volume(100_000).cold_chance("submit") < 1e-3
    assert Volume(100_000).cold_chance("watch") < Volume(100_000).cold_chance("submit")


def test_custom_metrics_are_billed_for_the_hours_with_data() -> None:
    facts = _facts()
    idle = bill.month_lines(facts, PRICES, None)
    busy = bill.month_lines(facts, PRICES, Volume(100_000))
    metrics = "CloudWatch custom metrics (billed hours with data)"
    assert next(line for line in idle if line.item == metrics).dollars == 0
    assert next(line for line in busy if line.item == metrics).dollars == pytest.approx(
        bill.METRICS_PER_JOB * 0.30, rel=1e-3
    )
