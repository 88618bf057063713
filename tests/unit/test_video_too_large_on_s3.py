"""max_video_bytes without Content-Length, on the real multipart upload (moto): the job fails at once, nothing
is stored and the multipart upload that had begun is aborted (s3transfer's clean-up of a failed upload)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
import requests
import responses
from moto import mock_aws

from i2v.adapters.aws import client, reset_clients
from i2v.adapters.storage import VideoStore
from i2v.adapters.video_source import VideoSource
from i2v.config import CompleteEnv
from i2v.domain.jobs import JobFailedError, JobStatus
from i2v.domain.record import JobRecord, SourceRef
from i2v.services.complete import CompleteService
from support.fakes import Fakes

MIB = 1024 * 1024
VIDEO_URL = "https://storage.googleapis.com/bucket/video.mp4"  # what FakeGmi answers by default
MP4 = b"\x00\x00\x00\x18ftypmp42"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "t"),
        ("AWS_SECRET_ACCESS_KEY", "t"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        reset_clients()
        client = boto3.client("s3")
        client.create_bucket(Bucket="out")
        yield client
    reset_clients()


def test_a_video_over_the_limit_without_content_length_leaves_no_object_and_no_multipart_upload(s3: object) -> None:
    fakes = Fakes()
    fakes.repo.put(
        JobRecord(
            job_id="e" * 32,
            status=JobStatus.PROCESSING,
            source=SourceRef(bucket="in", key="incoming/k.png"),
            model="m",
            request_id="req-1",
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
        )
    )
    env = CompleteEnv.model_validate(
        {
            "JOBS_TABLE_NAME": "jobs",
            "EVENT_BUS_NAME": "bus",
            "GMI_API_KEY_SECRET_ID": "s",
            "OUTPUT_BUCKET": "out",
            "VIDEO_HOST_ALLOWLIST": "storage.googleapis.com",
            "ALLOW_PRIVATE_VIDEO_ADDRESSES": "true",
            "MAX_VIDEO_BYTES": str(12 * MIB),  # past the first 5 MiB part: a multipart upload has begun
            "VIDEO_PART_SIZE_BYTES": str(5 * MIB),
        }
    )
    service = CompleteService(
        options=env.options(),
        repo=fakes.repo,
        gmi=fakes.gmi,
        store=VideoStore(part_size=env.video_part_size_bytes),
        publisher=fakes.publisher,
        videos=VideoSource(env.allowed_hosts, env.allow_private_video_addresses, requests.Session()),
    )
    calls: list[str] = []
    for operation in ("CreateMultipartUpload", "AbortMultipartUpload"):
        client("s3").meta.events.register(f"before-call.s3.{operation}", lambda model, **_: calls.append(model.name))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as host:
        host.get(VIDEO_URL, body=MP4 + b"\x00" * (20 * MIB), content_type="video/mp4")  # no Content-Length
        with pytest.raises(JobFailedError) as failed:
            service.complete("e" * 32, "req-1")
    assert failed.value.failure.category == "download_failed"
    assert "larger than the" in failed.value.failure.message
    assert s3.list_objects_v2(Bucket="out").get("KeyCount") == 0  # type: ignore[attr-defined]
    assert calls == ["CreateMultipartUpload", "AbortMultipartUpload"]
    assert s3.list_multipart_uploads(Bucket="out").get("Uploads", []) == []  # type: ignore[attr-defined]
