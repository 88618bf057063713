"""Scenario 12: the presigned image URL no longer works when GMI fetches it: the job fails with its own
reason, `image_unreachable` (not a generic GMI failure), recorded and announced."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalSettings, LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import FAILED, submit_module

pytestmark = pytest.mark.xdist_group(__name__)


def _assert_image_unreachable(pipeline: PipelineDriver, tap: Any, job_id: str, http_status: int) -> None:
    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "image_unreachable"
    assert job.failure.message == f"image_url could not be fetched (HTTP {http_status})"
    (event,) = tap.of_type(FAILED)
    assert event["detail"]["failure"]["category"] == "image_unreachable"
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"  # the failure path of the workflow recorded it


def test_s12_image_gone_by_the_time_gmi_fetches_it(
    watched_stack: Callable[[LocalSettings], AbstractContextManager[LocalStack]],
    scenario_api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GMI fetches the image when the job leaves its queue, after the submission; the version is deleted after
    # it was validated and presigned, right before the POST (the last moment the pipeline could notice), so
    # the URL GMI was given answers 404, exactly what an invalidated presigned URL does. Deleting inside the
    # submission (not after the invocation) keeps this independent of how fast the host is.
    with (
        GmiSimulator(api_key=scenario_api_key, timing=Timing.fixed(queued=0.2, processing=0.0)) as sim,
        watched_stack(LocalSettings.for_simulator(sim)) as stack,
    ):
        pipeline = PipelineDriver(stack)
        tap = stack.tap_events()
        key = "incoming/expired/pier.png"
        job_id = pipeline.upload(key)
        deleted: list[str] = []
        gmi = submit_module().service().gmi
        real_submit = gmi.submit

        def delete_the_version_then_submit(*args: Any, **kwargs: Any) -> Any:
            version = pipeline.job(job_id).source.version_id
            pipeline.s3.delete_object(Bucket=pipeline.input_bucket, Key=key, VersionId=version)
            deleted.append(str(version))
            return real_submit(*args, **kwargs)

        monkeypatch.setattr(gmi, "submit", delete_the_version_then_submit)
        stack.run_until_idle(timeout=30)

        assert len(deleted) == 1
        assert sim.post_count == 1
        _assert_image_unreachable(pipeline, tap, job_id, 404)


def test_s12_expired_url_reported_by_gmi(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    """GMI reports that the URL was refused (403: what S3 answers for an expired signature)."""
    tap = leak_guard.watch(local_stack)
    job_id = pipeline.upload("incoming/expired/harbour.png", prompt="boats [sim:image_403]")

    local_stack.run_until_idle(timeout=30)

    _assert_image_unreachable(pipeline, tap, job_id, 403)
    assert local_gmi.post_count == 1
