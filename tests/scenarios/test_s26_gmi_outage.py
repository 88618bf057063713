"""Scenario 26: GMI accepts nothing for three (simulated) hours, then recovers (issue 11, item 10).

Uploads made during the outage are parked `deferred` (reason `gmi_unavailable`) and looked at again with
growing delays through fresh delayed messages, so no receive count runs out and nothing reaches the DLQ. The
circuit breaker makes most of those looks cost no POST. Time is warped: the submit service's clock, moto's SQS
clock (message delays), the watch function's clock (it reads SQS's SentTimestamp) and the breaker's clock move
together, hours in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import moto.sqs.models
import pytest

from i2v.adapters.breaker import FAILURE_THRESHOLD
from i2v.services import submission as submit_service
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from i2v_local.timewarp import breaker_clock
from scenarios.submit_helpers import FAILED, dead_letters, queue_counts, submit_module
from support.breaker import fresh_breaker_counters
from support.watch_queue import move_watch_clock

pytestmark = pytest.mark.xdist_group(__name__)

HOUR = 3600.0
STEP = 300.0  # simulated seconds between two looks at the queue


class Warp:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def warp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Warp]:
    fresh_breaker_counters()
    clock = Warp()
    real_millis = moto.sqs.models.unix_time_millis
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + clock.offset * 1000)
    with breaker_clock(clock.now):
        yield clock


def _posts(sim: GmiSimulator) -> list[Any]:
    return [entry for entry in sim.requests_log if entry.method == "POST"]


def _live_through(stack: LocalStack, warp: Warp, seconds: float) -> None:
    """Let `seconds` of simulated time pass, looking at the queue every STEP."""
    end = warp.offset + seconds
    while warp.offset < end:
        warp.offset = min(end, warp.offset + STEP)
        stack.run_until_idle(timeout=60)


def test_s26_a_three_hour_outage_is_ridden_out_and_every_job_succeeds(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
    warp: Warp,
) -> None:
    stack = local_stack_factory()
    monkeypatch.setattr(submit_module().service(), "clock", warp.now)
    monkeypatch.setattr(submit_module().service(), "sleep", lambda _seconds: None)  # Retry-After waits: skipped
    move_watch_clock(monkeypatch, warp.now)  # it reads SQS's (warped) SentTimestamp
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    local_gmi.inject("post_503", count=None)  # the outage: every POST refused, nothing created

    job_ids = [pipeline.upload(f"incoming/outage/{n}.png", png_bytes(shade=n)) for n in range(6)]
    stack.run_until_idle(timeout=60)
    _live_through(stack, warp, 3 * HOUR)

    refused = [entry for entry in _posts(local_gmi) if entry.status == 503]
    looks = leak_guard.metric_values("SubmissionsParked")
    # Every upload is parked, none failed, none dead-lettered, the queue still holds them (delayed).
    assert {pipeline.job(job_id).status for job_id in job_ids} == {"deferred"}
    for job_id in job_ids:
        job = pipeline.job(job_id)
        assert job.failure is not None
        assert job.failure.category == "gmi_unavailable"
        assert job.unavailable_looks >= 5  # looked at again and again, with growing delays
    assert tap.of_type(FAILED) == []
    assert dead_letters(stack) == []
    assert queue_counts(stack)["delayed"] == len(job_ids)
    # The breaker cut the attempts: after FAILURE_THRESHOLD refusals in a row, at most one probe per recovery
    # window reached GMI (here: per look at the queue). Without it every look would cost POST_ATTEMPTS POSTs.
    probe_windows = int(3 * HOUR / STEP) + 2
    assert len(refused) <= FAILURE_THRESHOLD + 2 * probe_windows  # slack for a slow machine (real-time steps)
    without_breaker = len(looks) * submit_service.POST_ATTEMPTS
    assert len(refused) * 5 <= without_breaker
    print(f"\n[s26] looks: {len(looks)}; POSTs that reached GMI: {len(refused)} (without a breaker: {without_breaker})")

    local_gmi.faults.clear()  # GMI is back
    deadline = warp.offset + 2 * HOUR
    while any(pipeline.job(job_id).status != "succeeded" for job_id in job_ids):
        assert warp.offset < deadline, {job_id: pipeline.job(job_id).status for job_id in job_ids}
        _live_through(stack, warp, STEP)

    accepted = [entry for entry in _posts(local_gmi) if entry.status == 200]
    assert len(accepted) == len(job_ids) == local_gmi.post_count  # exactly one accepted POST per job
    assert len({pipeline.job(job_id).request_id for job_id in job_ids}) == len(job_ids)
    for job_id in job_ids:
        job = pipeline.job(job_id)
        assert job.failure is None
        assert job.unavailable_since is None
    assert dead_letters(stack) == []
    assert queue_counts(stack) == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_s26_past_the_patience_the_job_fails_gmi_unavailable(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
    warp: Warp,
) -> None:
    stack = local_stack_factory(environment={"GMI_OUTAGE_PATIENCE_SECONDS": "3600"})
    monkeypatch.setattr(submit_module().service(), "clock", warp.now)
    monkeypatch.setattr(submit_module().service(), "sleep", lambda _seconds: None)
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    local_gmi.inject("post_503", count=None)

    job_id = pipeline.upload("incoming/outage/patience.png", png_bytes(shade=9))
    stack.run_until_idle(timeout=60)
    _live_through(stack, warp, 2 * HOUR)

    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "gmi_unavailable"
    assert "GMI accepted no submission for 1 h" in job.failure.message
    (event,) = tap.of_type(FAILED)
    assert event["detail"]["failure"]["category"] == "gmi_unavailable"
    assert dead_letters(stack) == []
    assert queue_counts(stack) == {"visible": 0, "in_flight": 0, "delayed": 0}
