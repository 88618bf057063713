"""Scenario 24 (continued): a submission refused by GMI after UTC midnight gives its budget back without
leaving the job `submitting` (issue 11, item 6)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import budget_items, queue_counts, submit_module

pytestmark = pytest.mark.xdist_group(__name__)

BEFORE_MIDNIGHT = datetime(2026, 3, 14, 23, 59, 59, tzinfo=UTC)


def test_s24_refusal_after_midnight_ends_the_job_and_never_leaves_it_submitting(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    monkeypatch: pytest.MonkeyPatch,
    leak_guard: Any,
) -> None:
    stack = local_stack_factory(environment={"DAILY_SUBMISSION_CAP": "5", "BUDGET_EXCEEDED_ACTION": "reject"})
    service = submit_module().service()

    def calendar() -> Iterator[datetime]:
        yield BEFORE_MIDNIGHT  # the budget is taken on the 14th...
        while True:
            yield BEFORE_MIDNIGHT + timedelta(seconds=2)  # ...GMI's refusal arrives on the 15th

    days = calendar()
    monkeypatch.setattr(service, "_today", lambda: next(days))
    pipeline = PipelineDriver(stack)
    job_id = pipeline.upload(
        "incoming/midnight/cat.png", png_bytes(shade=3), prompt="late [sim:post_refused status=400 message=nope]"
    )

    stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "gmi_rejected"
    assert [entry.status for entry in local_gmi.requests_log if entry.method == "POST"] == [400]
    assert queue_counts(stack) == {"visible": 0, "in_flight": 0, "delayed": 0}
    assert budget_items(stack).get("2026-03-15", 0) == 0  # nothing taken from a day that never submitted
