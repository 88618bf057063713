"""Issue 10: the model is chosen per job (deployment default, prefix preset, object metadata); its settings are
validated before any money is spent; end frames are checked and presigned like the source."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import posts

pytestmark = pytest.mark.xdist_group(__name__)


def _gmi_job(sim: GmiSimulator, pipeline: PipelineDriver, job_id: str) -> Any:
    job = pipeline.job(job_id)
    assert job.request_id is not None, (job.status, job.failure)
    return job, sim.jobs[job.request_id]


def test_metadata_and_presets_choose_the_model_and_gmi_gets_that_models_payload(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    presets = {"veo/": {"model": "veo-3.1-fast-generate-001", "aspectRatio": "9:16", "durationSeconds": 4}}
    stack = local_stack_factory(environment={"PREFIX_PRESETS": json.dumps(presets)})
    pipeline = PipelineDriver(stack)
    jobs = {
        "default": pipeline.upload("incoming/default.png", prompt="waves"),
        "metadata": pipeline.upload("incoming/wan.png", prompt="waves", model="wan2.6-i2v", duration="10"),
        "preset": pipeline.upload("incoming/veo/tall.png", prompt="waves"),
    }
    stack.run_until_idle(timeout=60)

    default, default_gmi = _gmi_job(local_gmi, pipeline, jobs["default"])
    assert (default.model, default_gmi.model) == ("pixverse-v5.5-i2v", "pixverse-v5.5-i2v")
    assert default_gmi.payload["duration"] == "5"  # a string enum stays a string

    wan, wan_gmi = _gmi_job(local_gmi, pipeline, jobs["metadata"])
    assert (wan.model, wan_gmi.model) == ("wan2.6-i2v", "wan2.6-i2v")
    assert wan_gmi.payload["duration"] == 10  # an integer enum is sent as an integer
    assert wan_gmi.payload["img_url"].startswith("http")
    assert "image_url" not in wan_gmi.payload
    assert "quality" not in wan_gmi.payload  # the deployment's pixverse defaults stay with pixverse

    veo, veo_gmi = _gmi_job(local_gmi, pipeline, jobs["preset"])
    assert veo.model == "veo-3.1-fast-generate-001"
    assert (veo_gmi.payload["aspectRatio"], veo_gmi.payload["durationSeconds"]) == ("9:16", 4)
    for job_id in jobs.values():
        assert pipeline.job(job_id).status == "succeeded"


def test_end_frame_is_checked_pinned_and_presigned_like_the_source(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    key = pipeline.put_end_frame("end-frames/sunset.png")
    job_id = pipeline.upload(
        "incoming/framed.png", prompt="day to night", model="kling-v3-image-to-video", end_frame=key
    )
    local_stack.run_until_idle(timeout=60)
    job, gmi_job = _gmi_job(local_gmi, pipeline, job_id)
    assert job.status == "succeeded"
    assert job.end_frame is not None
    assert (job.end_frame.key, job.end_frame.content_type) == ("end-frames/sunset.png", "image/png")
    assert job.end_frame.version_id
    tail = gmi_job.payload["image_tail"]
    assert "end-frames/sunset.png" in tail
    assert f"versionId={job.end_frame.version_id}" in tail
    assert "X-Amz-Signature=" in tail  # presigned (the leak guard checks it never reaches a log or record)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"model": "sora-9"}, ["unknown model 'sora-9'", "wan2.6-i2v"]),
        ({"model": "kling-v2-6", "quality": "720p"}, ["kling-v2-6", "'quality'", "cfg_scale"]),
        ({"model": "Minimax-Hailuo-2.3-Fast", "duration": "10", "resolution": "1080P"}, ["1080P", '"512P", "768P"']),
        ({"model": "wan2.6-i2v", "resolution": "4k"}, ["wan2.6-i2v", "resolution", '"720P", "1080P"']),
        ({"end_frame": "end-frames/x.png"}, ["pixverse-v5.5-i2v", "end_frame", "kling-v3-image-to-video"]),
        ({"model": "seedance-2-0-fast-260128", "end_frame": "end-frames/missing.png"}, ["does not exist"]),
        ({"model": "seedance-2-0-fast-260128", "end_frame": "incoming/other.png"}, ["under 'end-frames/'"]),
    ],
)
def test_unaccepted_models_settings_and_end_frames_are_rejected_before_any_post(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    metadata: dict[str, str],
    expected: list[str],
) -> None:
    job_id = pipeline.upload("incoming/refused.png", prompt="p", **metadata)
    local_stack.run_until_idle(timeout=30)
    job = pipeline.job(job_id)
    assert job.status == "rejected"
    assert job.failure is not None
    assert job.failure.category == "invalid_settings"
    for fragment in expected:
        assert fragment in job.failure.message
    assert posts(local_gmi) == []
