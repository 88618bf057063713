"""Scenarios 5 and 6: a source that is gone, or is not an image GMI can use, is `rejected` with its reason
before anything is sent to GMI (and a Failed event says why)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from i2v.domain.source import SourceObject, job_id_for
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import FAILED, gif_bytes, heic_bytes, noise_png, posts, send, take_notifications

pytestmark = pytest.mark.xdist_group(__name__)

MAX_IMAGE_BYTES = 4096


def _rejections(pipeline: PipelineDriver, tap: Any, job_ids: dict[str, str]) -> dict[str, tuple[str, str]]:
    """name -> (failure category, message), checked against the record and the Failed event."""
    events = {e["detail"]["job_id"]: e["detail"] for e in tap.of_type(FAILED)}
    found = {}
    for name, job_id in job_ids.items():
        job = pipeline.job(job_id)
        assert job.status == "rejected", (name, job.status)
        assert job.failure is not None
        assert job.request_id is None
        assert events[job_id]["status"] == "rejected"
        assert events[job_id]["failure"] == {"category": job.failure.category, "message": job.failure.message}
        found[name] = (str(job.failure.category), job.failure.message)
    return found


def test_s05_source_deleted_before_submit_is_rejected_without_a_post(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = leak_guard.watch(local_stack)
    s3 = pipeline.s3
    version_gone = pipeline.upload("incoming/deleted/version.png")
    marker = pipeline.upload("incoming/deleted/marker.png")
    notifications = take_notifications(local_stack)
    # The exact version is deleted for good; the other object is deleted the usual way (a delete marker in
    # the versioned bucket: the version still exists, but the object, as the user sees it, is gone).
    _delete_version(s3, pipeline.input_bucket, "incoming/deleted/version.png")
    s3.delete_object(Bucket=pipeline.input_bucket, Key="incoming/deleted/marker.png")
    send(local_stack, *notifications)

    local_stack.run_until_idle(timeout=30)

    rejected = _rejections(pipeline, tap, {"version": version_gone, "marker": marker})
    assert rejected == {
        "version": ("source_missing", "the image no longer exists"),
        "marker": ("source_missing", "the image no longer exists"),
    }
    assert posts(local_gmi) == []
    assert pipeline.executions() == []


def _delete_version(s3: Any, bucket: str, key: str) -> None:
    (version,) = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def test_s06_bad_images_are_rejected_with_their_reason_before_any_post(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack_factory(environment={"MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES)})
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    oversize = noise_png()
    assert len(oversize) > MAX_IMAGE_BYTES
    job_ids = {
        "empty": _upload_empty(pipeline, "incoming/bad/empty.png"),
        "text named .jpg": pipeline.upload("incoming/bad/notes.jpg", b"just some text, honestly\n" * 4),
        "gif named .png": pipeline.upload("incoming/bad/animated.png", gif_bytes()),
        "heic named .jpg": pipeline.upload("incoming/bad/iphone.jpg", heic_bytes()),
        "over the size limit": pipeline.upload("incoming/bad/huge.png", oversize),
        "invalid settings": pipeline.upload("incoming/bad/settings.png", png_bytes(), quality="1080p", duration="10"),
    }

    stack.run_until_idle(timeout=30)

    rejected = _rejections(pipeline, tap, job_ids)
    assert {name: category for name, (category, _) in rejected.items()} == {
        "empty": "empty_image",
        "text named .jpg": "unsupported_format",
        "gif named .png": "unsupported_format",
        "heic named .jpg": "unsupported_format",
        "over the size limit": "image_too_large",
        "invalid settings": "invalid_settings",
    }
    messages = {name: message for name, (_, message) in rejected.items()}
    assert messages["empty"] == "the image is empty (0 bytes)"
    assert messages["text named .jpg"] == "content is not an image we recognise; GMI accepts JPEG, PNG or WebP"
    assert messages["gif named .png"] == "content is GIF; GMI accepts JPEG, PNG or WebP"
    assert messages["heic named .jpg"] == "content is HEIC/AVIF; GMI accepts JPEG, PNG or WebP"
    assert messages["over the size limit"] == f"the image is {len(oversize)} bytes; the limit is {MAX_IMAGE_BYTES}"
    assert "1080p" in messages["invalid settings"]
    assert posts(local_gmi) == []
    assert pipeline.executions() == []


def _upload_empty(pipeline: PipelineDriver, key: str) -> str:
    """PipelineDriver.upload replaces an empty body with a PNG; a zero-byte object needs a plain PUT."""
    response = pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key=key, Body=b"")
    source = SourceObject(pipeline.input_bucket, key, response.get("VersionId"), response["ETag"].strip('"'), "0", 0)
    return job_id_for(source)


def test_s05_rejection_whose_event_was_lost_is_announced_on_redelivery(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The record says rejected, but PutEvents kept failing: SQS redelivers, and the event goes out then (once).
    from i2v.adapters.publisher import EventPublisher
    from i2v.domain.jobs import TransientError

    tap = leak_guard.watch(local_stack)
    real_publish = EventPublisher.publish
    refusals = {"left": 1}

    def flaky_publish(self: EventPublisher, detail_type: str, detail: dict[str, Any], **kwargs: Any) -> None:
        if detail_type == FAILED and refusals["left"]:
            refusals["left"] -= 1
            raise TransientError("EventBridge refused the event (test)")
        real_publish(self, detail_type, detail, **kwargs)

    monkeypatch.setattr(EventPublisher, "publish", flaky_publish)
    job_id = pipeline.upload("incoming/lost-event/notes.jpg", body=b"plain text, not an image")
    local_stack.run_until_idle(timeout=30)

    assert refusals["left"] == 0
    job = pipeline.job(job_id)
    assert job.status == "rejected"
    assert job.announced == "rejected"
    assert [e["detail"]["job_id"] for e in tap.of_type(FAILED)] == [job_id]
    assert posts(local_gmi) == []
