"""Scenario 18, continued: GMI finished (and billed) the video, then storing it fails for longer than the
Complete task's own retries (about a minute in AWS). The real synthesized state machine in moto's interpreter,
the real handlers, the GMI simulator's faults.

Time is shrunk, not skipped: the Retry waits run at 5 % (fast_state_machine_retries) and the poll policy is
the local one (1-2 s waits), so a round of the store loop (Complete with its 5 retries, Poll, then the watch
function's looks until GMI answers) takes a few seconds here where AWS takes a minute or more.

The store loop's looks: its first step is the Poll task (straight from Complete's Catch: the backoff, no GET),
which routes `waiting` back to the Watch state; the later looks are the watch function's, with `store_error`
still in the state it carries. `support.poll_looks` records both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.workflow_helpers import (
    FAILED,
    SUCCEEDED,
    count_s3_calls,
    fast_state_machine_retries,
    objects_under,
    on_calls,
    open_multipart_uploads,
    results_of,
    shorten_deadline,
    videos_under,
)
from support.poll_looks import Look, Looks, record_looks

pytestmark = pytest.mark.xdist_group(__name__)

MIB = 1024 * 1024
# The first try and the synthesized Retry's MaxAttempts (5) for VideoNotStoredError: one round of Complete.
COMPLETE_ATTEMPTS_PER_ROUND = 6


@pytest.fixture
def fast_retries() -> Iterator[None]:
    with fast_state_machine_retries():
        yield


def _after_store_looks(looks: Looks, count: int, then: Callable[[], Any]) -> None:
    """Call `then()` once, after the `count`-th look of the store loop (a look with `store_error` set)."""
    seen: list[int] = []

    def after(look: Look) -> None:
        if look.store_loop:
            seen.append(1)
            if len(seen) == count:
                then()

    looks.after.append(after)


def _store_looks(looks: Looks, job_id: str) -> list[Look]:
    return [look for look in looks.of(job_id) if look.store_loop]


def test_s18_gmi_outage_longer_than_completes_retries_is_ridden_out_and_the_video_stored_once(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    fast_retries: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GMI reported success, then its status GET answers 503 through a whole round of Complete's retries and
    several looks after it; when GMI answers again the video is stored once and the job succeeds."""
    looks = record_looks(monkeypatch)
    tap = local_stack.tap_events()
    on_calls(local_stack, "Complete", before=lambda _event: local_gmi.inject("get_503", count=None))
    _after_store_looks(looks, 4, then=local_gmi.faults.clear)  # GMI is back

    job_id = pipeline.upload("incoming/s18/outage.png")
    local_stack.run_until_idle(timeout=120)

    job = pipeline.job(job_id)
    assert job.status == "succeeded", job.failure
    completes = results_of(local_stack, "Complete")
    failed = completes[:COMPLETE_ATTEMPTS_PER_ROUND]
    assert all(r.error and r.payload["errorType"] == "VideoNotStoredError" for r in failed), completes
    assert "download_failed" in failed[-1].payload["errorMessage"]
    assert [r.error for r in completes[COMPLETE_ATTEMPTS_PER_ROUND:]] == [False]
    # The store loop rode the outage with the poll policy's backoff, then sent the job back to Complete: its
    # first step is the Poll task, the looks after it the watch function's.
    store_looks = _store_looks(looks, job_id)
    assert [look.by for look in store_looks] == ["Poll"] + ["Watch"] * (len(store_looks) - 1)
    verdicts = [look.verdict for look in store_looks if look.verdict is not None]
    assert len(verdicts) == len(store_looks), looks.errors(job_id)
    assert verdicts[0]["outcome"] == "waiting"
    assert verdicts[0]["failed_stores"] == 1
    assert any(v["consecutive_errors"] > 0 for v in verdicts)  # GETs refused while waiting
    assert verdicts[-1]["outcome"] == "succeeded"
    refused = [e for e in local_gmi.requests_log if e.method == "GET" and "/requests/" in e.path and e.status == 503]
    assert len(refused) > COMPLETE_ATTEMPTS_PER_ROUND
    assert job.output is not None
    (stored,) = videos_under(local_stack, pipeline.output_bucket)
    assert (stored["Key"], stored["Size"]) == (job.output.key, job.output.size)
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert tap.of_type(FAILED) == []
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    assert local_gmi.post_count == 1


def test_s18_video_host_down_for_two_rounds_leaves_one_object_and_no_open_upload(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    fast_retries: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The video host breaks every download mid-body (a multipart upload had begun) for two whole rounds of
    Complete; the third round stores it: one object, every partial upload aborted, one Succeeded event."""
    looks = record_looks(monkeypatch)
    tap = local_stack.tap_events()
    calls = count_s3_calls()
    broken = 2 * COMPLETE_ATTEMPTS_PER_ROUND

    def heal(event: dict[str, Any], _result: Any) -> None:
        seen.append(1)
        if len(seen) == broken:
            local_gmi.job(event["request_id"]).faults.pop("video_reset")

    seen: list[int] = []

    on_calls(
        local_stack,
        "Complete",
        before=lambda event: local_gmi.set_job_faults(event["request_id"], "video_reset fraction=0.7 delay=0.05"),
    )
    on_calls(local_stack, "Complete", after=heal, times=broken)
    job_id = pipeline.upload("incoming/s18/host-down.png", prompt=f"twenty MiB [sim:video_size bytes={20 * MIB}]")

    local_stack.run_until_idle(timeout=180)

    job = pipeline.job(job_id)
    assert job.status == "succeeded", job.failure
    completes = results_of(local_stack, "Complete")
    assert [r.error for r in completes] == [True] * broken + [False]
    assert {r.payload["errorType"] for r in completes[:broken]} == {"VideoNotStoredError"}
    # Each round: the Poll task straight from Complete (wait the round's backoff), then the watch function's
    # look after the wait (GMI still done: back to Complete).
    store_looks = _store_looks(looks, job_id)
    assert [(look.by, look.verdict and look.verdict["failed_stores"]) for look in store_looks] == [
        ("Poll", 1),
        ("Watch", 1),
        ("Poll", 2),
        ("Watch", 2),
    ]
    assert job.output is not None
    assert job.output.size == 20 * MIB
    (stored,) = objects_under(local_stack, pipeline.output_bucket)
    assert (stored["Key"], stored["Size"]) == (job.output.key, 20 * MIB)
    assert open_multipart_uploads(local_stack, pipeline.output_bucket) == []
    assert calls["CreateMultipartUpload"] == broken + 1
    assert calls["AbortMultipartUpload"] == broken
    assert calls["CompleteMultipartUpload"] == 1
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["output"]["key"] == job.output.key
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"


def test_s18_outage_past_the_deadline_fails_download_failed_and_leaves_nothing_behind(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, fast_retries: None
) -> None:
    """The video host never recovers: the store loop tries until the job's deadline, then the job fails with
    download_failed and a message saying the video was made but could not be stored (not a plain timeout)."""
    tap = local_stack.tap_events()
    shorten_deadline(12)
    on_calls(
        local_stack,
        "Complete",
        before=lambda event: local_gmi.set_job_faults(event["request_id"], "video_reset fraction=0.7 delay=0.05"),
    )
    job_id = pipeline.upload("incoming/s18/never.png", prompt=f"twenty MiB [sim:video_size bytes={20 * MIB}]")

    local_stack.run_until_idle(timeout=120)

    job = pipeline.job(job_id)
    assert job.status == "failed", job
    assert job.failure is not None
    assert job.failure.category == "download_failed"
    assert "GMI made the video, but it could not be stored before the 12 s deadline" in job.failure.message
    assert "video stream broke" in job.failure.message  # the last cause
    completes = results_of(local_stack, "Complete")
    assert len(completes) >= 2 * COMPLETE_ATTEMPTS_PER_ROUND  # more than one round before the deadline
    assert all(r.error and r.payload["errorType"] == "VideoNotStoredError" for r in completes)
    assert job.output is None
    assert objects_under(local_stack, pipeline.output_bucket) == []
    assert open_multipart_uploads(local_stack, pipeline.output_bucket) == []
    (event,) = tap.wait_for(FAILED)
    assert event["detail"]["failure"]["category"] == "download_failed"
    assert tap.of_type(SUCCEEDED) == []
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"  # the workflow did its job: JobFailed
    assert local_gmi.post_count == 1


@pytest.mark.usefixtures("fast_retries")
def test_s18_a_download_still_running_at_the_functions_deadline_stops_and_the_store_loop_ends_the_job(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 24, defect 10: a slow video host and a Complete function running out of time. Every Complete
    invocation sees its time left fall by 1 s each time it looks (a fake clock: the download looks once per
    piece it reads), from 40 s: the download stops when 20 s are left (STOP_RESERVE_SECONDS), long before the
    20 MiB arrive, with VideoNotStoredError; the store loop then ends the job download_failed at its deadline.
    Before the fix the download never looked and the slow video was stored whole."""
    from i2v_local.stack.lambdas import FakeLambdaContext

    looks: dict[str, int] = {}

    def time_left_ms(context: FakeLambdaContext) -> int:
        if "Complete" not in context.function_name:
            return max(0, int((context.deadline - time.monotonic()) * 1000))
        looks[context.aws_request_id] = looks.get(context.aws_request_id, 0) + 1
        return 40_000 - 1_000 * looks[context.aws_request_id]

    monkeypatch.setattr(FakeLambdaContext, "get_remaining_time_in_millis", time_left_ms)
    tap = local_stack.tap_events()
    shorten_deadline(8)
    job_id = pipeline.upload(
        "incoming/s18/slow.png",
        prompt=f"slow host [sim:video_size bytes={20 * MIB}] [sim:video_slow bytes_per_second={4 * MIB}]",
    )

    local_stack.run_until_idle(timeout=120)

    completes = results_of(local_stack, "Complete")
    assert completes, "Complete never ran"
    assert all(r.error and r.payload["errorType"] == "VideoNotStoredError" for r in completes)
    assert all("stopped at its deadline" in r.payload["errorMessage"] for r in completes)
    # Each attempt stopped after about 20 looks at the clock, one per piece: far from 20 MiB.
    assert max(looks.values()) <= 25
    job = pipeline.job(job_id)
    assert job.status == "failed", job
    assert job.failure is not None
    assert job.failure.category == "download_failed"
    assert "could not be stored before the 8 s deadline" in job.failure.message
    assert "stopped at its deadline" in job.failure.message
    assert objects_under(local_stack, pipeline.output_bucket) == []
    assert open_multipart_uploads(local_stack, pipeline.output_bucket) == []
    assert tap.of_type(SUCCEEDED) == []
