"""Answers as GMI gives them (issue 10, item 4): every documented shape ends in the right place.

The simulator answers per model as GMI's pages show, and the `answer_style`, `status_walk`, `unknown_status`,
`video_junk` and `thumbnail_404` faults force one variant on a job; the real handlers and state machine run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import posts
from scenarios.workflow_helpers import FAILED, SUCCEEDED, objects_under, open_multipart_uploads, results_of

pytestmark = pytest.mark.xdist_group(__name__)


def _objects(stack: LocalStack) -> list[str]:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.outputs["OutputBucketName"])
    return [item["Key"] for item in listed.get("Contents", [])]


def test_success_with_only_media_urls_is_stored(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/answers/media.png", prompt="a kite [sim:media_urls]")

    local_stack.run_until_idle(timeout=30)

    (gmi_job,) = local_gmi.jobs.values()
    assert "answer_style" in gmi_job.faults  # GMI answered {"media_urls": [{"id", "url"}]} and nothing else
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    assert job.output.key in _objects(local_stack)
    assert len(tap.wait_for(SUCCEEDED)) == 1


def test_submit_answering_dispatched_goes_on_polling(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    job_id = pipeline.upload(
        "incoming/answers/dispatched.png",
        prompt="a kite [sim:submit_dispatched] [sim:walk statuses=created,dispatched]",
    )

    local_stack.run_until_idle(timeout=30)

    (post,) = posts(local_gmi)
    assert post.status == 200
    execution = pipeline.wait_for_execution()
    described = local_stack.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"])["gmi_status"] == "dispatched"  # what the POST answered
    (gmi_job,) = local_gmi.jobs.values()
    assert gmi_job.reported[:2] == ["created", "dispatched"]  # what the status checks were told
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert "processing" in job.timestamps  # dispatched: a worker has it
    assert local_gmi.post_count == 1


def test_unknown_status_is_counted_once_then_polled_to_success(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    job_id = pipeline.upload("incoming/answers/paused.png", prompt="a kite [sim:unknown_status gets=3 status=paused]")

    local_stack.run_until_idle(timeout=30)

    (gmi_job,) = local_gmi.jobs.values()
    assert gmi_job.reported[:4] == ["paused"] * 3 + ["success"]
    assert leak_guard.metric_values("UnknownGmiStatus") == [1.0]  # counted once per job, not per poll
    warnings = [line for line in leak_guard.json_lines() if "undocumented status" in str(line.get("message"))]
    assert len(warnings) == 1
    assert pipeline.job(job_id).status == "succeeded"


def test_thumbnail_is_stored_as_the_poster_and_the_event_carries_the_video_facts(
    pipeline: PipelineDriver, local_stack: LocalStack
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/answers/poster.png", prompt="a lighthouse [sim:poster]")

    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.poster is not None
    assert job.output is not None
    assert job.poster.key == job.output.key.removesuffix(".mp4") + ".poster.jpg"
    head = local_stack.client("s3").head_object(Bucket=job.poster.bucket, Key=job.poster.key)
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == job.poster.size
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["poster"]["key"] == job.poster.key
    output = event["detail"]["output"]
    # The simulator renders 5 s at 16:9 in reduced pixels (320x180), read from the MP4 header while streaming.
    assert (output["width"], output["height"]) == (320, 180)
    assert output["duration_seconds"] == pytest.approx(5.0, abs=0.2)


def test_a_poster_that_fails_never_fails_the_job(
    pipeline: PipelineDriver, local_stack: LocalStack, leak_guard: Any
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/answers/noposter.png", prompt="a lighthouse [sim:poster] [sim:thumbnail_404]")

    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.poster is None
    assert leak_guard.metric_values("PostersFailed") == [1.0]
    (event,) = tap.wait_for(SUCCEEDED)
    assert "poster" not in event["detail"]


def test_junk_video_bytes_are_not_stored(pipeline: PipelineDriver, local_stack: LocalStack) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/answers/junk.png", prompt="a kite [sim:junk bytes=12000000]")

    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "invalid_video"
    assert "not a video" in job.failure.message
    bucket = local_stack.outputs["OutputBucketName"]
    assert objects_under(local_stack, bucket) == []  # nothing stored (the junk is larger than one part)
    assert open_multipart_uploads(local_stack, bucket) == []  # and no multipart upload left behind
    assert [event["detail"]["failure"]["category"] for event in tap.wait_for(FAILED)] == ["invalid_video"]
    completes = results_of(local_stack, "Complete")
    assert completes
    assert all(result.error for result in completes)
