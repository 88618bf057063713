"""Issue 28: every stored video gets a poster and an animated preview made from its own frames, after its
Succeeded event (off the critical path); a video that cannot be decoded gets its reason recorded, not a retry."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageStat

from i2v.domain.previews import MAX_PREVIEW_BYTES, MIN_LUMA_STDDEV
from i2v_events import VideoPreviewReady, parse_event
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from support.videos import detailed_png

pytestmark = pytest.mark.xdist_group(__name__)

MODELS = ("pixverse-v5.5-i2v", "wan2.6-i2v", "veo-3.1-fast-generate-001")


def _object(stack: LocalStack, bucket: str, key: str) -> tuple[bytes, str]:
    response = stack.client("s3").get_object(Bucket=bucket, Key=key)
    return response["Body"].read(), response["ContentType"]


def test_three_models_get_a_poster_and_an_animated_preview_and_junk_gets_a_reason(
    local_stack: LocalStack, pipeline: PipelineDriver, leak_guard: Any
) -> None:
    tap = local_stack.tap_events()
    jobs = {
        model: pipeline.upload(f"incoming/previews/{i}.png", detailed_png(), prompt="the stripes sway", model=model)
        for i, model in enumerate(MODELS)
    }
    # A video GMI "made" that is no video at all past its MP4 header: stored, but nothing can decode it.
    junk = pipeline.upload("incoming/previews/junk.png", detailed_png(), prompt="junk [sim:video_size bytes=300000]")
    local_stack.run_until_idle(timeout=120)

    ready = {e["detail"]["job_id"]: e for e in tap.of_type("Video Preview Ready")}
    succeeded = [e["detail"]["job_id"] for e in tap.of_type("Video Generation Succeeded")]
    for model, job_id in jobs.items():
        job = pipeline.job(job_id)
        assert (job.status, job.model) == ("succeeded", model), job.failure
        assert job.previews is not None, job.preview_failure
        assert job.output is not None
        poster_bytes, poster_type = _object(local_stack, job.output.bucket, job.previews.poster.key)
        assert poster_type == "image/jpeg"
        assert len(poster_bytes) == job.previews.poster.size
        poster = Image.open(io.BytesIO(poster_bytes))
        assert poster.format == "JPEG"
        assert ImageStat.Stat(poster.convert("L")).stddev[0] >= MIN_LUMA_STDDEV, f"{model}: a blank poster"
        animated_bytes, animated_type = _object(local_stack, job.output.bucket, job.previews.animated.key)
        assert animated_type == "image/webp"
        assert len(animated_bytes) == job.previews.animated.size <= MAX_PREVIEW_BYTES
        animated = Image.open(io.BytesIO(animated_bytes))
        assert (animated.format, animated.is_animated) == ("WEBP", True)
        assert animated.n_frames > 1
        assert job.previews.animated.width <= 320
        # Beside the video, under names of their own (GMI's thumbnail would be <video>.poster.<ext>).
        base = job.output.key.rsplit(".", 1)[0]
        assert (job.previews.poster.key, job.previews.animated.key) == (f"{base}.frame.jpg", f"{base}.preview.webp")
        event = parse_event(ready[job_id])
        assert isinstance(event, VideoPreviewReady)
        assert event.detail.previews.animated.key == job.previews.animated.key
        assert job_id in succeeded  # the video was announced on its own, before and without the previews

    broken = pipeline.job(junk)
    assert broken.status == "succeeded"  # the video is delivered; only its previews are missing
    assert broken.previews is None
    assert broken.preview_failure is not None
    assert broken.preview_failure.reason == "undecodable"
    assert junk not in ready
    # No retry loop: the previews function ran once for it and answered (no function error to retry).
    calls = [result for event, result in local_stack.router.calls("Previews") if event["detail"]["job_id"] == junk]
    assert len(calls) == 1
    assert not calls[0].error
    assert calls[0].payload["status"] == "undecodable"
