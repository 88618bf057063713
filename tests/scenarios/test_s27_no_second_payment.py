"""No second payment from a redirect or a lagging list (issue 24, defects 5, 6 and 9), on moto + the simulator.

- A 3xx to the POST is never followed (requests would send the body, and on the same host the API key, again):
  the job is ambiguous and reconciled like any other ambiguous answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from i2v.services import reconcile as reconcile_service
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import posts

pytestmark = pytest.mark.xdist_group("local")


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reconcile_service, "SETTLE_SECONDS", 0)


@pytest.mark.usefixtures("settled_at_once")
@pytest.mark.parametrize("status", [307, 302])
def test_s27_a_redirected_post_is_not_followed_and_the_job_is_reconciled(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any, status: int
) -> None:
    job_id = pipeline.upload(f"incoming/redirect/{status}.png", prompt=f"a pier [sim:post_3xx status={status}]")

    local_stack.run_until_idle(timeout=60)

    assert [(entry.status, entry.fault) for entry in posts(local_gmi)] == [(status, "post_3xx")]
    assert local_gmi.post_count == 1  # GMI created the job once; the redirect was not followed
    (gmi_job,) = [job for job in local_gmi.jobs.values() if job.request_id == pipeline.job(job_id).request_id]
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert "submit_ambiguous" in job.timestamps
    assert "reconciled" in job.timestamps
    assert gmi_job.request_id == job.request_id
