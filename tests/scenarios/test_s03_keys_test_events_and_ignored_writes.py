"""Scenarios 3, 4 and 7: hostile keys are decoded exactly once; s3:TestEvent is acknowledged; writes under
the output location and folder markers never start a job."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from i2v.domain.source import output_key_for
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import (
    SUBMITTED,
    SUCCEEDED,
    dead_letters,
    handled,
    ignored,
    jpeg_bytes,
    notification_key,
    posts,
    send,
    take_notifications,
    with_object,
)
from support.watch_queue import submit_pump

pytestmark = pytest.mark.xdist_group(__name__)

HOSTILE_KEY = "incoming/a b+c/ñ%25 (1).jpg"


def _job_items(stack: LocalStack) -> list[dict[str, Any]]:
    table = stack.outputs["JobsTableName"]
    items = stack.client("dynamodb").scan(TableName=table)["Items"]
    return [item for item in items if item["pk"]["S"].startswith("JOB#")]


@pytest.mark.parametrize(
    ("realistic", "encoded"),
    [
        # S3 itself: form-encoded, "/" kept.
        (True, "incoming/a+b%2Bc/%C3%B1%2525+%281%29.jpg"),
        # moto's own notifications: quote_plus with "/" encoded too.
        (False, "incoming%2Fa+b%2Bc%2F%C3%B1%2525+%281%29.jpg"),
    ],
    ids=["s3-encoding", "moto-encoding"],
)
def test_s03_hostile_key_is_decoded_once_and_flows_end_to_end(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    realistic: bool,
    encoded: str,
) -> None:
    stack = local_stack_factory(realistic_s3_events=realistic)
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    pipeline.upload(HOSTILE_KEY, jpeg_bytes(), prompt="a quiet harbour")
    (notification,) = take_notifications(stack)
    assert notification_key(notification) == encoded
    send(stack, notification)

    stack.run_until_idle(timeout=30)

    (job,) = pipeline.repo.by_source(pipeline.input_bucket, HOSTILE_KEY)  # found under the real key
    assert job.status == "succeeded", job.failure
    assert job.source.key == HOSTILE_KEY
    assert job.source.content_type == "image/jpeg"
    # HEAD worked on the real key (size recorded) and GMI fetched the presigned URL of that very object.
    assert job.source.size == len(jpeg_bytes())
    (gmi_job,) = local_gmi.jobs.values()
    image_path = unquote(urlsplit(gmi_job.payload["image_url"]).path)
    assert image_path == f"/{pipeline.input_bucket}/{HOSTILE_KEY}"
    assert gmi_job.video is not None  # the simulator decoded the image it fetched
    assert job.output is not None
    assert job.output.key == output_key_for(HOSTILE_KEY, job.job_id, "incoming/", "videos/")
    assert job.output.key == f"videos/a b+c/ñ%25 (1).{job.job_id}.mp4"
    assert pipeline.s3.head_object(Bucket=job.output.bucket, Key=job.output.key)["ContentLength"] == job.output.size
    for detail_type in (SUBMITTED, SUCCEEDED):
        (event,) = tap.of_type(detail_type)
        assert event["detail"]["source"]["key"] == HOSTILE_KEY
    assert local_gmi.post_count == 1


def test_s04_s3_test_event_is_acknowledged_and_ignored(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack_factory(pump_visibility_timeout=0)  # anything failed would come straight back
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2025-06-20T18:08:45.000Z",
        "Bucket": stack.outputs["InputBucketName"],
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
    send(stack, json.dumps(test_event), json.dumps(test_event))

    stack.run_until_idle(timeout=30)

    pump = submit_pump(stack)
    assert pump.stats.failed == 0
    assert pump.stats.deleted == pump.stats.received >= 2  # acknowledged (plus the one S3 sent at setup)
    assert dead_letters(stack) == []
    assert [reason for reason, _ in ignored(leak_guard.json_lines())].count("s3:TestEvent") >= 2
    assert _job_items(stack) == []
    assert posts(local_gmi) == []


def test_s07_output_writes_and_folder_markers_never_start_a_job(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack
    # 1. Through S3: only the input bucket notifies, and only for image names under the input prefix.
    pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key="incoming/new-folder/", Body=b"")
    pipeline.s3.put_object(Bucket=pipeline.output_bucket, Key="videos/looks-like-an-image.png", Body=png_bytes())
    pipeline.s3.put_object(Bucket=pipeline.output_bucket, Key="incoming/in-the-output-bucket.png", Body=png_bytes())
    assert take_notifications(stack) == []

    # 2. A real upload runs to the end: the video written to the output bucket starts nothing new.
    job_id = pipeline.upload("incoming/one.png")
    (real,) = take_notifications(stack)
    send(stack, real)
    stack.run_until_idle(timeout=30)
    assert pipeline.job(job_id).status == "succeeded"
    assert handled(leak_guard.json_lines()) == ["submitted"]

    # 3. Notifications that a wider (mis)configuration would deliver: each is acknowledged and ignored.
    video_key = pipeline.job(job_id).output.key  # type: ignore[union-attr]
    forged = {
        "output video": with_object(real, bucket=pipeline.output_bucket, key=video_key.replace(" ", "+")),
        "output prefix, input bucket": with_object(real, key="videos/clip.png"),
        "folder marker": with_object(real, key="incoming/new-folder/", size=0),
        "outside the input prefix": with_object(real, key="elsewhere/a.png"),
        "empty name": with_object(real, key="incoming/+"),
    }
    send(stack, *forged.values())
    stack.run_until_idle(timeout=30)

    reasons = {key: reason for reason, key in ignored(leak_guard.json_lines()) if reason != "s3:TestEvent"}
    assert reasons == {
        video_key: "inside the output location",
        "videos/clip.png": "outside the input prefix",
        "incoming/new-folder/": "folder marker",
        "elsewhere/a.png": "outside the input prefix",
        "incoming/ ": "empty name",
    }
    assert handled(leak_guard.json_lines()) == ["submitted"]
    assert [item["pk"]["S"] for item in _job_items(stack)] == [f"JOB#{job_id}"]
    assert dead_letters(stack) == []
    assert local_gmi.post_count == 1
