"""No second payment from a redirect or a lagging list (issue 24, defects 5, 6 and 9), on moto + the simulator.

- A 3xx to the POST is never followed (requests would send the body, and on the same host the API key, again):
  the job is ambiguous and reconciled like any other ambiguous answer.
- After a 503 the job is POSTed again only once GMI's list has settled (reconcile.SETTLE_SECONDS, the window
  reconciliation uses) and every page of the list shows no job for it.
"""

from __future__ import annotations

import time
from typing import Any

import moto.sqs.models
import pytest

from i2v.services import reconcile as reconcile_service
from i2v_local.simulator import API_PREFIX, GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import posts, submit_module
from support.watch_queue import move_watch_clock

pytestmark = pytest.mark.xdist_group(__name__)


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reconcile_service, "SETTLE_SECONDS", 0)


class Warp:
    """Simulated time for SQS's delays and the submit and watch functions' clocks."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def warp(monkeypatch: pytest.MonkeyPatch, local_stack: LocalStack) -> Warp:
    clock = Warp()
    real_millis = moto.sqs.models.unix_time_millis
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + clock.offset * 1000)
    monkeypatch.setattr(submit_module().service(), "clock", clock.now)
    move_watch_clock(monkeypatch, clock.now)
    return clock


def list_reads(sim: GmiSimulator) -> list[Any]:
    return [entry for entry in sim.requests_log if entry.method == "GET" and entry.path == API_PREFIX]


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


def test_s27_after_a_503_the_job_waits_for_the_settled_list_and_is_found_on_a_later_page(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
    warp: Warp,
) -> None:
    """GMI created the job and answered 503. Looked for at once, GMI's list may not show it yet; looked for only on
    the first page, newer requests may have pushed it off: either way a second POST, a second payment."""
    monkeypatch.setattr(local_gmi.config, "list_page_size", 2)
    job_id = pipeline.upload("incoming/settle/ours.png", prompt="a harbour [sim:post_503_after_accept]")
    local_stack.run_until_idle(timeout=60)

    assert [(e.status, e.fault) for e in posts(local_gmi)] == [(503, "post_503_after_accept")]
    assert list_reads(local_gmi) == []  # not read before it has settled
    parked = pipeline.job(job_id)
    assert (parked.status, parked.post_503_since is not None) == ("deferred", True)

    # Meanwhile GMI takes three other jobs: newer, they fill the list's first page and a half.
    others = [pipeline.upload(f"incoming/settle/other-{n}.png", prompt=f"a boat {n}") for n in range(3)]
    local_stack.run_until_idle(timeout=90)
    assert {pipeline.job(other).status for other in others} == {"succeeded"}

    warp.offset += reconcile_service.SETTLE_SECONDS + 60  # the parked job's delayed message comes due
    local_stack.run_until_idle(timeout=90)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert "reconciled" in job.timestamps
    assert local_gmi.post_count == 4  # ours once, the three others once: nothing paid twice
    assert len(posts(local_gmi)) == 4
    assert len(list_reads(local_gmi)) == 2  # 4 requests, 2 a page: ours was on the second
