"""Scenario 24: the daily submission cap. Over the cap an image waits (`defer`: re-queued, submitted on a later
day) or is `rejected` with reason `budget` (`reject`), as configured; nothing is lost either way."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import moto.sqs.models
import pytest

from i2v.adapters.queue import SubmitQueue
from i2v.services.retry import retry_job
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import FAILED, budget_items, queue_counts, submit_module, submit_queue
from support.watch_queue import move_watch_clock

pytestmark = pytest.mark.xdist_group(__name__)

DAY = timedelta(days=1)
# The service's calendar is pinned: a run that crosses midnight must not move the budget to another day.
TODAY = datetime(2026, 3, 14, 23, 59, 59, tzinfo=UTC)


def test_s24_over_the_cap_waits_and_is_submitted_the_next_day(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory(environment={"DAILY_SUBMISSION_CAP": "2", "BUDGET_EXCEEDED_ACTION": "defer"})
    service = submit_module().service()
    monkeypatch.setattr(service, "_today", lambda: TODAY)
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    job_ids = [pipeline.upload(f"incoming/cap/{n}.png", png_bytes(shade=n)) for n in range(3)]

    stack.run_until_idle(timeout=30)

    statuses = {job_id: pipeline.job(job_id).status for job_id in job_ids}
    assert sorted(statuses.values()) == ["deferred", "succeeded", "succeeded"]
    (waiting,) = [job_id for job_id, status in statuses.items() if status == "deferred"]
    job = pipeline.job(waiting)
    assert job.failure is not None
    assert job.failure.category == "budget"
    assert local_gmi.post_count == 2
    assert leak_guard.metric_values("SubmissionsDeferred") == [1.0]
    assert tap.of_type(FAILED) == []  # waiting is not failing
    assert queue_counts(stack)["delayed"] == 1  # not lost: back on the queue, delayed as far as SQS allows
    assert budget_items(stack) == {"2026-03-14": 2}

    # The next day: the service's calendar and SQS's clock (and the watch function's with it) move on; the
    # delayed message comes back.
    monkeypatch.setattr(service, "_today", lambda: TODAY + DAY)
    real_millis = moto.sqs.models.unix_time_millis
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + DAY.total_seconds() * 1000)
    move_watch_clock(monkeypatch, lambda: time.time() + DAY.total_seconds())
    stack.run_until_idle(timeout=30)

    job = pipeline.job(waiting)
    assert job.status == "succeeded"
    assert job.failure is None
    assert {"deferred", "submitting", "succeeded"} <= set(job.timestamps)
    assert local_gmi.post_count == 3
    assert budget_items(stack) == {"2026-03-14": 2, "2026-03-15": 1}
    assert queue_counts(stack) == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_s24_over_the_cap_is_rejected_with_reason_budget_and_can_be_retried(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory(environment={"DAILY_SUBMISSION_CAP": "1", "BUDGET_EXCEEDED_ACTION": "reject"})
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    first = pipeline.upload("incoming/cap/first.png", png_bytes(shade=1))
    stack.run_until_idle(timeout=30)
    second = pipeline.upload("incoming/cap/second.png", png_bytes(shade=2))
    stack.run_until_idle(timeout=30)

    assert pipeline.job(first).status == "succeeded"
    job = pipeline.job(second)
    assert job.status == "rejected"
    assert job.failure is not None
    assert job.failure.category == "budget"
    assert job.failure.message == "daily submission cap of 1 reached"
    (event,) = tap.of_type(FAILED)
    assert event["detail"]["job_id"] == second
    assert event["detail"]["failure"]["category"] == "budget"
    assert local_gmi.post_count == 1

    # Nothing is lost: once the cap is raised, `i2v retry` submits the rejected image.
    service = submit_module().service()
    monkeypatch.setattr(service, "options", service.options.model_copy(update={"daily_submission_cap": 2}))
    retry_job(pipeline.repo, SubmitQueue(submit_queue(stack)), second, confirm_ambiguous=False)
    stack.run_until_idle(timeout=30)

    job = pipeline.job(second)
    assert job.status == "succeeded"
    assert job.attempt == 2
    assert local_gmi.post_count == 2
