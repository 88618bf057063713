"""CompleteService on fakes: the video host is mocked with `responses`, S3 and the table are fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from i2v.adapters.video_source import VideoSource
from i2v.config import CompleteEnv
from i2v.domain import catalog
from i2v.domain.gmi_answers import GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import JobFailedError, JobStatus, TransientError
from i2v.domain.polling import history_key
from i2v.domain.record import JobRecord, OutputRef, SourceRef
from i2v.services.complete import CompleteService
from i2v_events.v1 import DetailType
from support.fakes import Fakes

JOB_ID = "c" * 32
VIDEO_URL = "https://storage.googleapis.com/bucket/video.mp4"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000


@pytest.fixture
def video_host() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _service(fakes: Fakes, status: JobStatus = JobStatus.PROCESSING, **job: Any) -> CompleteService:
    fakes.repo.put(
        JobRecord(
            job_id=JOB_ID,
            status=status,
            source=SourceRef(bucket="in", key="incoming/cats/tom.png"),
            request_id="req-1",
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
            **{"model": "m", **job},
        )
    )
    env = CompleteEnv.model_validate(
        {
            "JOBS_TABLE_NAME": "jobs",
            "EVENT_BUS_NAME": "bus",
            "GMI_API_KEY_SECRET_ID": "secret",
            "OUTPUT_BUCKET": "out",
            "VIDEO_HOST_ALLOWLIST": "storage.googleapis.com",
            # No DNS in unit tests: the address check belongs to the video_source adapter's own tests.
            "ALLOW_PRIVATE_VIDEO_ADDRESSES": "true",
        }
    )
    return CompleteService(
        options=env.options(),
        repo=fakes.repo,
        gmi=fakes.gmi,
        store=fakes.videos,
        publisher=fakes.publisher,
        videos=VideoSource(env.allowed_hosts, env.allow_private_video_addresses, requests.Session()),
        metrics=fakes.metrics,
    )


def _serve(video_host: responses.RequestsMock, status: int = 200, body: bytes = MP4) -> None:
    headers = {"Content-Length": str(len(body))}
    video_host.get(VIDEO_URL, status=status, body=body, content_type="video/mp4", headers=headers)


def test_the_video_is_stored_recorded_and_announced(fakes: Fakes, video_host: responses.RequestsMock) -> None:
    _serve(video_host)
    result = _service(fakes).complete(JOB_ID, "req-1")

    assert result["status"] == JobStatus.SUCCEEDED
    ((bucket, key),) = fakes.videos.videos
    assert (bucket, fakes.videos.videos[(bucket, key)]) == ("out", MP4)
    assert key.startswith("videos/cats/")
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.output is not None
    assert (job.status, job.output.size, job.generation_seconds) == (JobStatus.SUCCEEDED, len(MP4), 90.0)
    assert fakes.publisher.detail_types() == [DetailType.SUCCEEDED]
    assert {"JobsSucceeded", "VideoBytes", "GenerationSeconds"} <= set(fakes.metrics.names())


def test_a_retry_after_the_record_was_written_announces_again_without_downloading(fakes: Fakes) -> None:
    output = OutputRef(bucket="out", key="videos/x.mp4", size=3, content_type="video/mp4")
    service = _service(fakes, JobStatus.SUCCEEDED, output=output)
    result = service.complete(JOB_ID, "req-1")
    assert result["output"] == output.model_dump()
    assert fakes.gmi.looked_up == []
    assert fakes.publisher.detail_types() == [DetailType.SUCCEEDED]


def test_a_job_that_already_ended_otherwise_is_left_alone(fakes: Fakes) -> None:
    result = _service(fakes, JobStatus.FAILED).complete(JOB_ID, "req-1")
    assert result == {"status": JobStatus.FAILED, "job_id": JOB_ID}
    assert fakes.gmi.looked_up == []
    assert fakes.publisher.events == []


def test_an_expired_video_url_is_fetched_again_from_gmi(fakes: Fakes, video_host: responses.RequestsMock) -> None:
    _serve(video_host, status=403, body=b"expired")
    _serve(video_host)
    result = _service(fakes).complete(JOB_ID, "req-1")
    assert result["status"] == JobStatus.SUCCEEDED
    assert fakes.gmi.looked_up == ["req-1", "req-1"]


def test_a_video_url_that_stays_expired_fails_the_job(fakes: Fakes, video_host: responses.RequestsMock) -> None:
    _serve(video_host, status=404, body=b"gone")
    with pytest.raises(JobFailedError) as failed:
        _service(fakes).complete(JOB_ID, "req-1")
    assert failed.value.failure.category == "artifact_expired"


@pytest.mark.parametrize(
    ("outcome", "category"),
    [({}, "missing_video_url"), ({"video_url": "https://evil.example/v.mp4"}, "video_url_rejected")],
)
def test_a_video_url_we_cannot_use_fails_the_job(fakes: Fakes, outcome: dict[str, str], category: str) -> None:
    fakes.gmi.get_answers.append(GmiRequest(request_id="req-1", status="success", outcome=outcome))
    with pytest.raises(JobFailedError) as failed:
        _service(fakes).complete(JOB_ID, "req-1")
    assert failed.value.failure.category == category
    assert fakes.videos.videos == {}


def test_a_video_over_the_size_limit_is_refused_before_storing(
    fakes: Fakes, video_host: responses.RequestsMock
) -> None:
    _serve(video_host)
    service = _service(fakes)
    service.options = service.options.model_copy(update={"max_video_bytes": 100})
    with pytest.raises(JobFailedError) as failed:
        service.complete(JOB_ID, "req-1")
    assert failed.value.failure.category == "download_failed"
    assert fakes.videos.videos == {}


def test_gmi_unreachable_is_retried(fakes: Fakes) -> None:
    fakes.gmi.get_answers.append(GmiRetryableError("GMI status check failed: ConnectTimeout"))
    with pytest.raises(TransientError) as retried:
        _service(fakes).complete(JOB_ID, "req-1")
    assert retried.value.category == "download_failed"


def test_a_request_gmi_forgot_fails_the_job(fakes: Fakes) -> None:
    fakes.gmi.get_answers.append(GmiPermanentError("GMI answered 404", status_code=404))
    with pytest.raises(JobFailedError) as failed:
        _service(fakes).complete(JOB_ID, "req-1")
    assert failed.value.failure.category == "gmi_not_found"


def test_a_job_without_a_record_is_an_internal_failure(fakes: Fakes) -> None:
    service = _service(fakes)
    with pytest.raises(JobFailedError) as failed:
        service.complete("0" * 32, "req-1")
    assert failed.value.failure.category == "internal"


def test_a_success_with_a_generation_time_is_filed_under_its_time_class(
    fakes: Fakes, video_host: responses.RequestsMock
) -> None:
    _serve(video_host)
    _service(fakes, model="kling-v2-6", settings={"duration": "10"}).complete(JOB_ID, "req-1")

    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.history_key == "kling-v2-6#duration=10"
    assert job.history_key == history_key(job.model, catalog.time_class_of(job.model, job.settings))
    assert job.history_key.startswith(f"{job.model}#")


# ---- limits while streaming, and the invocation's deadline -------------------------------------------------
def _serve_without_length(video_host: responses.RequestsMock, body: bytes, url: str = VIDEO_URL) -> None:
    # No Content-Length: the limit can only be found out while streaming.
    video_host.get(url, body=body, content_type="video/mp4" if url == VIDEO_URL else "image/jpeg")


def test_a_video_over_the_size_limit_without_content_length_fails_at_once(
    fakes: Fakes, video_host: responses.RequestsMock
) -> None:
    _serve_without_length(video_host, MP4 + b"\x00" * 2_000_000)
    service = _service(fakes)
    service.options = service.options.model_copy(update={"max_video_bytes": 100_000})
    with pytest.raises(JobFailedError) as failed:  # permanent: not a TransientError downloaded again and again
        service.complete(JOB_ID, "req-1")
    assert failed.value.failure.category == "download_failed"
    assert "larger than the 100000 byte limit" in failed.value.failure.message
    assert fakes.videos.videos == {}
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.status == JobStatus.PROCESSING  # RecordFailure records it, with this reason


POSTER_URL = "https://storage.googleapis.com/bucket/still.jpg"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


@pytest.mark.parametrize("declared", [False, True], ids=["no-content-length", "content-length"])
def test_a_poster_over_its_size_limit_is_not_stored_and_never_fails_the_job(
    fakes: Fakes, video_host: responses.RequestsMock, declared: bool
) -> None:
    from i2v.services.complete import MAX_POSTER_BYTES

    _serve(video_host)
    body = JPEG + b"\x00" * MAX_POSTER_BYTES
    headers = {"Content-Length": str(len(body))} if declared else {}
    video_host.get(POSTER_URL, body=body, content_type="image/jpeg", headers=headers)
    fakes.gmi.get_answers.append(
        GmiRequest(
            request_id="req-1", status="success", outcome={"video_url": VIDEO_URL, "thumbnail_image_url": POSTER_URL}
        )
    )
    result = _service(fakes).complete(JOB_ID, "req-1")
    assert result["status"] == JobStatus.SUCCEEDED
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.poster is None
    assert list(fakes.videos.videos.values()) == [MP4]
    assert "PostersFailed" in fakes.metrics.names()


class _Countdown:
    """The invocation's time left (Lambda's get_remaining_time_in_millis), on a fake clock: every look at it
    (the stream looks once per piece it reads) costs `per_look_ms`."""

    def __init__(self, left_ms: int, per_look_ms: int) -> None:
        self.left_ms = left_ms
        self.per_look_ms = per_look_ms
        self.looks = 0

    def __call__(self) -> int:
        self.looks += 1
        self.left_ms -= self.per_look_ms
        return self.left_ms


def test_a_download_still_running_at_the_invocations_deadline_stops_before_it(
    fakes: Fakes, video_host: responses.RequestsMock
) -> None:
    from i2v.services.complete import STOP_RESERVE_SECONDS

    body = MP4 + b"\x00" * (4 * 1024 * 1024)  # 17 pieces of 256 KiB
    _serve_without_length(video_host, body)
    # A slow host: each piece takes 5 s of the function's time; 60 s left when the download starts.
    left = _Countdown(left_ms=60_000, per_look_ms=5_000)
    with pytest.raises(TransientError) as not_stored:
        _service(fakes).complete(JOB_ID, "req-1", time_left_ms=left)
    assert type(not_stored.value).__name__ == "VideoNotStoredError"  # the store loop, not a killed invocation
    assert not_stored.value.category == "download_failed"
    assert "stopped at its deadline" in str(not_stored.value)
    assert left.left_ms >= (STOP_RESERVE_SECONDS - 5) * 1000  # stopped within one piece of the stop
    assert fakes.videos.videos == {}
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.status == JobStatus.PROCESSING  # nothing recorded: the store loop tries again until the deadline


def test_a_download_with_time_to_spare_is_stored_whole(fakes: Fakes, video_host: responses.RequestsMock) -> None:
    body = MP4 + b"\x00" * (4 * 1024 * 1024)
    _serve_without_length(video_host, body)
    left = _Countdown(left_ms=900_000, per_look_ms=1_000)
    assert _service(fakes).complete(JOB_ID, "req-1", time_left_ms=left)["status"] == JobStatus.SUCCEEDED
    assert list(fakes.videos.videos.values()) == [body]
    assert left.looks >= len(body) // (256 * 1024)  # the deadline was looked at before every piece
