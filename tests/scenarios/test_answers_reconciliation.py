"""Ambiguous submissions reconciled (issue 10, item 5): the submit function looks for the job in GMI's
request list (`GET /requests?model_id=`) by its image's object address and the time it was sent.

The automatic look comes as a delayed `reconcile` message on the submit queue (SETTLE_SECONDS after the
ambiguous POST); the tests shrink the delay to 0 so the pump delivers it at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from i2v.services import reconcile as reconcile_service
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import posts, send
from scenarios.workflow_helpers import FAILED, SUCCEEDED

pytestmark = pytest.mark.xdist_group(__name__)

SUBMITTED = "Video Generation Submitted"


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reconcile_service, "SETTLE_SECONDS", 0)


@pytest.mark.usefixtures("settled_at_once")
def test_ambiguous_submission_found_at_gmi_continues_with_exactly_one_post(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/reconcile/found.png", prompt="a pier [sim:500_after_accept]")

    local_stack.run_until_idle(timeout=60)

    assert [(entry.status, entry.fault) for entry in posts(local_gmi)] == [(500, "post_500_after_accept")]
    assert local_gmi.post_count == 1  # GMI created the job once; nobody POSTed again
    (gmi_job,) = local_gmi.jobs.values()
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.request_id == gmi_job.request_id
    assert "submit_ambiguous" in job.timestamps
    assert "reconciled" in job.timestamps
    assert job.failure is None
    assert leak_guard.metric_values("SubmissionsReconciled") == [1.0]
    assert [event["detail"]["status"] for event in tap.wait_for(FAILED)] == ["submit_ambiguous"]
    assert len(tap.wait_for(SUBMITTED)) == 1
    assert len(tap.wait_for(SUCCEEDED)) == 1
    assert len(pipeline.executions()) == 1


@pytest.mark.usefixtures("settled_at_once")
def test_ambiguous_submission_not_in_the_list_stays_ambiguous_with_the_message(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    # Another job for the same model is in GMI's list, created at about the same time: it must not match.
    other = pipeline.upload("incoming/reconcile/neighbour.png", prompt="a neighbour")
    local_stack.run_until_idle(timeout=60)
    job_id = pipeline.upload("incoming/reconcile/lost.png", prompt="a pier [sim:post_drop]")

    local_stack.run_until_idle(timeout=60)

    assert pipeline.job(other).status == "succeeded"
    assert local_gmi.post_count == 1  # only the neighbour's job exists at GMI
    job = pipeline.job(job_id)
    assert job.status == "submit_ambiguous"
    assert job.failure is not None
    assert job.failure.message.startswith("not in GMI's request list as of ")
    assert f"i2v retry {job_id}" in job.failure.message
    assert "reconciled" not in job.timestamps
    assert leak_guard.metric_values("ReconcileNotFound") == [1.0]
    assert len(pipeline.executions()) == 1  # the neighbour's


def test_reconcile_on_demand_looks_at_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    # Without the shortened delay the automatic look is 2 minutes away; `i2v reconcile` sends `now`.
    job_id = pipeline.upload("incoming/reconcile/demand.png", prompt="a pier [sim:500_after_accept]")
    local_stack.run_until_idle(timeout=60)
    assert pipeline.job(job_id).status == "submit_ambiguous"

    send(local_stack, f'{{"kind": "reconcile", "job_id": "{job_id}", "now": true}}')
    local_stack.run_until_idle(timeout=60)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert "reconciled" in job.timestamps
    assert local_gmi.post_count == 1
