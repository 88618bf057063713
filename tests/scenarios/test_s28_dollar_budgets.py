"""Scenario 28 (issue 25): daily budgets in dollars, on moto + the GMI simulator.

Each job's price (here the deployment's `gmi_prices`: $0.45 a video of the default model) is reserved in the
jobs table before its POST; a job is accepted while the day's spend is below the budget, so a day ends at most
one job's price over it, even with 12 submits racing.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import moto.sqs.models
import pytest

from i2v.adapters.repository import JobRepository
from i2v.handlers.parsing import Upload, commands_from_body
from i2v.services import reconcile as reconcile_service
from i2v.services.submit import SubmitService
from i2v.services.submit_result import SubmitOutcome
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import FAILED, queue_counts, submit_module, take_notifications
from support.atomic_dynamodb import atomic_dynamodb
from support.watch_queue import move_watch_clock

pytestmark = pytest.mark.xdist_group(__name__)

PRICES = json.dumps({"pixverse-v5.5-i2v": {"unit": "video", "rates": [{"usd": 0.45}]}})
TODAY = datetime(2026, 3, 14, 23, 59, 59, tzinfo=UTC)  # pinned: a run that crosses midnight must not move the day
DAY = timedelta(days=1)


def spend_items(stack: LocalStack) -> dict[str, dict[str, Decimal]]:
    """The dollar budget counters in the jobs table: day -> budget (`all` or a prefix) -> dollars reserved."""
    items = stack.client("dynamodb").scan(TableName=stack.outputs["JobsTableName"])["Items"]
    return {
        item["pk"]["S"].removeprefix("BUDGET#"): {
            name.removeprefix("usd#"): Decimal(value["N"]) for name, value in item.items() if name.startswith("usd#")
        }
        for item in items
        if item["pk"]["S"].startswith("BUDGET#") and item["sk"]["S"] == "USD"
    }


def _pinned(monkeypatch: pytest.MonkeyPatch, service: SubmitService, day: datetime = TODAY) -> SubmitService:
    monkeypatch.setattr(service, "_today", lambda: day)
    return service


def test_s28_twelve_concurrent_submits_never_spend_more_than_the_budget_plus_one_price(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory(environment={"DAILY_BUDGET_USD": "2", "GMI_PRICES": PRICES})
    base = submit_module().service()
    pipeline = PipelineDriver(stack)
    for n in range(12):
        pipeline.upload(f"incoming/race/{n}.png", png_bytes(shade=n))
    uploads = [
        command
        for body in take_notifications(stack)
        for command in commands_from_body(body, submit_module().submit_env().scope)
        if isinstance(command, Upload)
    ]
    assert len(uploads) == 12
    # Twelve submit instances (Lambda's many containers), all reaching the reservation at the same moment.
    instances = [_pinned(monkeypatch, dataclasses.replace(base)) for _ in uploads]
    together = threading.Barrier(len(uploads), timeout=30)
    reserve = JobRepository.reserve_spend

    def racing(self: JobRepository, *args: Any, **kwargs: Any) -> Any:
        together.wait()
        return reserve(self, *args, **kwargs)

    monkeypatch.setattr(JobRepository, "reserve_spend", racing)
    with atomic_dynamodb(), ThreadPoolExecutor(len(uploads)) as pool:
        results = list(
            pool.map(lambda pair: pair[0].submit_source(pair[1].source), zip(instances, uploads, strict=True))
        )
    monkeypatch.setattr(JobRepository, "reserve_spend", reserve)

    outcomes = [result.outcome for result in results]
    assert outcomes.count(SubmitOutcome.SUBMITTED) == 5, outcomes  # spent before each: $0 .. $1.80, below $2
    assert outcomes.count(SubmitOutcome.REJECTED) == 7, outcomes
    assert local_gmi.post_count == 5
    (spent,) = spend_items(stack).values()
    assert spent == {"all": Decimal("2.25")}  # over $2 by less than one job's $0.45
    for result in results:
        job = pipeline.job(str(result.job_id))
        if result.outcome == SubmitOutcome.REJECTED:
            assert job.failure is not None
            assert job.failure.message.startswith("daily budget of $2.00 (daily_budget_usd) reached")
    stack.run_until_idle(timeout=60)
    assert sorted(pipeline.job(str(r.job_id)).status for r in results) == ["rejected"] * 7 + ["succeeded"] * 5


def test_s28_a_prefix_budget_rejects_one_team_while_another_goes_on(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack_factory(
        environment={"PREFIX_BUDGETS": json.dumps({"team-a/": 1.0}), "GMI_PRICES": PRICES},
    )
    pipeline = PipelineDriver(stack)
    tap = stack.tap_events()
    team_a = [pipeline.upload(f"incoming/team-a/{n}.png", png_bytes(shade=n)) for n in range(4)]
    team_b = [pipeline.upload(f"incoming/team-b/{n}.png", png_bytes(shade=10 + n)) for n in range(4)]

    stack.run_until_idle(timeout=60)

    assert sorted(pipeline.job(job_id).status for job_id in team_a) == ["rejected"] + ["succeeded"] * 3
    assert {pipeline.job(job_id).status for job_id in team_b} == {"succeeded"}
    assert local_gmi.post_count == 7
    (refused,) = [pipeline.job(job_id) for job_id in team_a if pipeline.job(job_id).status == "rejected"]
    assert refused.failure is not None
    assert refused.failure.category == "budget"
    assert "daily budget of $1.00 for prefix 'team-a/' (prefix_budgets) reached ($1.35 spent on" in (
        refused.failure.message
    )
    (failed,) = tap.wait_for(FAILED)
    assert failed["detail"]["failure"]["category"] == "budget"
    (spent,) = spend_items(stack).values()
    assert spent == {"team-a/": Decimal("1.35")}  # no global budget set: only the prefix is counted
    assert max(leak_guard.metric_values("DailySpendUsd")) == 1.35


def test_s28_over_the_dollar_budget_a_job_waits_and_is_submitted_after_utc_midnight(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory(
        environment={"DAILY_BUDGET_USD": "0.9", "BUDGET_EXCEEDED_ACTION": "defer", "GMI_PRICES": PRICES}
    )
    service = _pinned(monkeypatch, submit_module().service())
    pipeline = PipelineDriver(stack)
    job_ids = [pipeline.upload(f"incoming/late/{n}.png", png_bytes(shade=n)) for n in range(3)]

    stack.run_until_idle(timeout=30)

    statuses = {job_id: pipeline.job(job_id).status for job_id in job_ids}
    # $0 and $0.45 spent before the first two: below $0.90; the third finds $0.90.
    assert sorted(statuses.values()) == ["deferred", "succeeded", "succeeded"]
    (waiting,) = [job_id for job_id, status in statuses.items() if status == "deferred"]
    job = pipeline.job(waiting)
    assert job.failure is not None
    assert job.failure.category == "budget"
    assert job.failure.message == (
        "daily budget of $0.90 (daily_budget_usd) reached ($0.90 spent on 2026-03-14 UTC); waiting for the next day"
    )
    assert local_gmi.post_count == 2
    assert queue_counts(stack)["delayed"] == 1
    assert spend_items(stack) == {"2026-03-14": {"all": Decimal("0.90")}}

    # After UTC midnight: the service's calendar and SQS's clock move on; the delayed messages come back.
    _pinned(monkeypatch, service, TODAY + DAY)
    real_millis = moto.sqs.models.unix_time_millis
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + DAY.total_seconds() * 1000)
    move_watch_clock(monkeypatch, lambda: time.time() + DAY.total_seconds())
    stack.run_until_idle(timeout=30)

    assert pipeline.job(waiting).status == "succeeded"
    assert pipeline.job(waiting).failure is None
    assert local_gmi.post_count == 3
    assert spend_items(stack) == {"2026-03-14": {"all": Decimal("0.90")}, "2026-03-15": {"all": Decimal("0.45")}}
    assert queue_counts(stack) == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_s28_a_model_with_no_known_price_is_refused_under_a_dollar_budget(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack_factory(environment={"DAILY_BUDGET_USD": "5"})  # no gmi_prices: pixverse has no price
    pipeline = PipelineDriver(stack)
    tap = stack.tap_events()
    unpriced = pipeline.upload("incoming/pix.png", prompt="waves")
    # The simulator serves kling-3.0-turbo-i2v's price_info ($0.112/s): that job is priced and goes on.
    priced = pipeline.upload("incoming/turbo.png", prompt="waves", model="kling-3.0-turbo-i2v", resolution="720p")

    stack.run_until_idle(timeout=60)

    job = pipeline.job(unpriced)
    assert job.status == "rejected"
    assert job.failure is not None
    assert job.failure.category == "budget"
    assert job.failure.message.startswith("model 'pixverse-v5.5-i2v' has no known price")
    assert "gmi_prices" in job.failure.message
    assert pipeline.job(priced).status == "succeeded"
    assert local_gmi.post_count == 1  # only the priced job was sent
    (failed,) = tap.wait_for(FAILED)
    assert failed["detail"]["job_id"] == unpriced
    (spent,) = spend_items(stack).values()
    assert spent == {"all": Decimal("0.56")}


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reconcile_service, "SETTLE_SECONDS", 0)


@pytest.mark.usefixtures("settled_at_once")
def test_s28_an_ambiguous_submission_reconciled_as_not_created_gives_its_money_back(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory(environment={"DAILY_BUDGET_USD": "5", "GMI_PRICES": PRICES})
    service = _pinned(monkeypatch, submit_module().service())
    pipeline = PipelineDriver(stack)
    held: list[dict[str, Decimal]] = []
    reconcile = service.reconcile_job

    def looking(job_id: str, now: bool = False) -> Any:
        held.append(spend_items(stack)["2026-03-14"])  # what the day counts while the job is ambiguous
        return reconcile(job_id, now=now)

    monkeypatch.setattr(service, "reconcile_job", looking)
    job_id = pipeline.upload("incoming/lost.png", prompt="a pier [sim:post_drop]")

    stack.run_until_idle(timeout=60)

    job = pipeline.job(job_id)
    assert job.status == "submit_ambiguous"
    assert job.failure is not None
    assert job.failure.message.startswith("not in GMI's request list as of ")
    assert held == [{"all": Decimal("0.45")}]  # GMI may have had it: it counted until the look
    assert spend_items(stack) == {"2026-03-14": {"all": Decimal("0")}}  # reconciled as not created: given back
    assert job.budget_reserved is None
    assert leak_guard.metric_values("DailySpendUsd") == [0.45, 0.0]
