"""Scenario 18, continued: GMI finished (and billed) the video, then storing it fails for longer than the
Complete task's own retries (about a minute in AWS). The real synthesized state machine in moto's interpreter,
the real handlers, the GMI simulator's faults.

Time is shrunk, not skipped: the Retry waits run at 5 % (fast_state_machine_retries) and the poll policy is
the local one (1-2 s waits), so a round of the store loop (Complete with its 5 retries, Poll, Wait, Poll) takes
a few seconds here where AWS takes a minute or more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import FunctionSpec, Invocation, LocalStack
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
)

pytestmark = pytest.mark.xdist_group("local")

MIB = 1024 * 1024
# The first try and the synthesized Retry's MaxAttempts (5) for VideoNotStoredError: one round of Complete.
COMPLETE_ATTEMPTS_PER_ROUND = 6


@pytest.fixture
def fast_retries() -> Iterator[None]:
    with fast_state_machine_retries():
        yield


def _after_store_polls(stack: LocalStack, count: int, then: Any) -> None:
    """Call `then()` once, after the `count`-th Poll of the store loop (a Poll with `store_error` set)."""
    seen: list[int] = []

    def after(spec: FunctionSpec, event: Any, result: Invocation) -> None:
        if "Poll" in spec.logical_id and event.get("store_error") is not None:
            seen.append(1)
            if len(seen) == count:
                then()

    stack.router.after_invoke.append(after)


def _store_polls(stack: LocalStack) -> list[tuple[Any, Invocation]]:
    return [(event, result) for event, result in stack.router.calls("Poll") if event.get("store_error") is not None]


def test_s18_gmi_outage_longer_than_completes_retries_is_ridden_out_and_the_video_stored_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, fast_retries: None
) -> None:
    """GMI reported success, then its status GET answers 503 through a whole round of Complete's retries and
    several polls after it; when GMI answers again the video is stored once and the job succeeds."""
    tap = local_stack.tap_events()
    on_calls(local_stack, "Complete", before=lambda _event: local_gmi.inject("get_503", count=None))
    _after_store_polls(local_stack, 4, then=local_gmi.faults.clear)  # GMI is back

    job_id = pipeline.upload("incoming/s18/outage.png")
    local_stack.run_until_idle(timeout=120)

    job = pipeline.job(job_id)
    assert job.status == "succeeded", job.failure
    completes = results_of(local_stack, "Complete")
    failed = completes[:COMPLETE_ATTEMPTS_PER_ROUND]
    assert all(r.error and r.payload["errorType"] == "VideoNotStoredError" for r in failed), completes
    assert "download_failed" in failed[-1].payload["errorMessage"]
    assert [r.error for r in completes[COMPLETE_ATTEMPTS_PER_ROUND:]] == [False]
    # The store loop rode the outage with the poll policy's backoff, then sent the job back to Complete.
    store_polls = [result.payload for _, result in _store_polls(local_stack)]
    assert store_polls[0]["outcome"] == "waiting"
    assert store_polls[0]["failed_stores"] == 1
    assert any(p["consecutive_errors"] > 0 for p in store_polls)  # GETs refused while waiting
    assert store_polls[-1]["outcome"] == "succeeded"
    refused = [e for e in local_gmi.requests_log if e.method == "GET" and "/requests/" in e.path and e.status == 503]
    assert len(refused) > COMPLETE_ATTEMPTS_PER_ROUND
    assert job.output is not None
    (stored,) = objects_under(local_stack, pipeline.output_bucket)
    assert (stored["Key"], stored["Size"]) == (job.output.key, job.output.size)
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert tap.of_type(FAILED) == []
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    assert local_gmi.post_count == 1


def test_s18_video_host_down_for_two_rounds_leaves_one_object_and_no_open_upload(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, fast_retries: None
) -> None:
    """The video host breaks every download mid-body (a multipart upload had begun) for two whole rounds of
    Complete; the third round stores it: one object, every partial upload aborted, one Succeeded event."""
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
    # Poll: straight from Complete (wait 1 round's backoff), after the wait (GMI still done: back to Complete)
    assert [p.payload["failed_stores"] for _, p in _store_polls(local_stack)] == [1, 1, 2, 2]
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
