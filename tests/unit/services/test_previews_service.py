"""The previews service on the fakes: poster and animation from the stored video, recorded and announced; an
undecodable video recorded, counted and not raised; a second delivery decodes nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageStat

from i2v.adapters.media import render_previews
from i2v.domain.jobs import JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.previews import MAX_PREVIEW_BYTES, MIN_LUMA_STDDEV
from i2v.domain.record import JobRecord, OutputRef, PosterRef, SourceRef
from i2v.services.previews import PreviewService
from i2v_events.v1 import DetailType
from support.fakes import Fakes, FakeStoredVideos
from support.videos import make_mp4

JOB_ID = "d" * 32
VIDEO_KEY = "videos/cat-" + JOB_ID + ".mp4"
GMI_POSTER = PosterRef(bucket="out", key="videos/cat-" + JOB_ID + ".poster.jpg", size=10, content_type="image/jpeg")


@pytest.fixture(scope="module")
def video() -> bytes:
    return make_mp4(seconds=3.0, fps=10, size=(160, 90), blank_seconds=1.0)


def _job(fakes: Fakes, status: JobStatus = JobStatus.SUCCEEDED, poster: PosterRef | None = None) -> JobRecord:
    return fakes.repo.put(
        JobRecord(
            job_id=JOB_ID,
            status=status,
            source=SourceRef(bucket="in", key="incoming/cat.png"),
            model="pixverse-v5.5-i2v",
            request_id="req-1",
            output=OutputRef(bucket="out", key=VIDEO_KEY, size=100, content_type="video/mp4"),
            poster=poster,
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
        )
    )


def _service(fakes: Fakes, stored: FakeStoredVideos) -> PreviewService:
    return PreviewService(
        repo=fakes.repo,
        videos=stored,
        store=fakes.videos,
        publisher=fakes.publisher,
        render=render_previews,  # the real decoder over the fake store: these tests are about real videos
        metrics=fakes.metrics,
    )


def _stored(body: bytes) -> FakeStoredVideos:
    stored = FakeStoredVideos()
    stored.videos[("out", VIDEO_KEY)] = body
    return stored


def test_poster_and_animation_are_stored_recorded_and_announced(video: bytes) -> None:
    fakes = Fakes()
    _job(fakes, poster=GMI_POSTER)
    result = _service(fakes, _stored(video)).make(JOB_ID)

    assert result["status"] == "ready"
    poster_key, animated_key = "videos/cat-" + JOB_ID + ".frame.jpg", "videos/cat-" + JOB_ID + ".preview.webp"
    poster = Image.open(io.BytesIO(fakes.videos.videos[("out", poster_key)]))
    assert poster.format == "JPEG"
    # Not the black lead-in: the first detailed frame, one second in.
    assert ImageStat.Stat(poster.convert("L")).stddev[0] >= MIN_LUMA_STDDEV
    animated_bytes = fakes.videos.videos[("out", animated_key)]
    animated = Image.open(io.BytesIO(animated_bytes))
    assert animated.format == "WEBP"
    assert animated.is_animated
    assert animated.n_frames > 1
    assert len(animated_bytes) <= MAX_PREVIEW_BYTES

    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.previews is not None
    assert job.previews.poster.key == poster_key
    assert job.previews.poster.size == len(fakes.videos.videos[("out", poster_key)])
    assert job.previews.poster.at_seconds >= 1.0
    assert job.previews.animated.key == animated_key
    assert job.previews.animated.size == len(animated_bytes)
    assert job.previews.animated.width == 160  # never scaled up
    assert job.poster == GMI_POSTER  # GMI's thumbnail is kept as it was
    assert job.status == JobStatus.SUCCEEDED
    assert fakes.publisher.detail_types() == [DetailType.PREVIEW_READY]
    detail = fakes.publisher.events[0][1]
    assert detail["previews"]["animated"]["key"] == animated_key
    assert detail["output"] == {"bucket": "out", "key": VIDEO_KEY}
    assert fakes.metrics.names() == [MetricName.PREVIEWS_MADE]


def test_an_undecodable_video_is_recorded_and_counted_not_raised() -> None:
    fakes = Fakes()
    _job(fakes)
    junk = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + bytes(50_000)
    result = _service(fakes, _stored(junk)).make(JOB_ID)

    assert result["status"] == "undecodable"
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.status == JobStatus.SUCCEEDED  # the job is not failed for it
    assert job.previews is None
    assert job.preview_failure is not None
    assert job.preview_failure.reason == "undecodable"
    assert "FFmpeg" in job.preview_failure.message
    assert fakes.metrics.names() == [MetricName.UNDECODABLE_VIDEOS]
    assert fakes.publisher.events == []
    assert fakes.videos.videos == {}


def test_a_second_delivery_announces_again_without_decoding(video: bytes) -> None:
    fakes = Fakes()
    _job(fakes)
    stored = _stored(video)
    service = _service(fakes, stored)
    service.make(JOB_ID)
    service.make(JOB_ID)

    assert len(stored.opened) == 1
    assert fakes.publisher.detail_types() == [DetailType.PREVIEW_READY] * 2
    assert fakes.metrics.names() == [MetricName.PREVIEWS_MADE]


@pytest.mark.parametrize("status", [JobStatus.PROCESSING, JobStatus.FAILED])
def test_a_job_without_a_stored_video_is_skipped(status: JobStatus) -> None:
    fakes = Fakes()
    _job(fakes, status=status)
    stored = FakeStoredVideos()
    assert _service(fakes, stored).make(JOB_ID)["status"] == "skipped"
    assert _service(fakes, stored).make("e" * 32)["status"] == "skipped"
    assert stored.opened == []
    assert fakes.publisher.events == []


def test_a_failed_read_of_the_stored_video_raises_for_lambdas_retry(video: bytes) -> None:
    class BrokenRead(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if size:  # S3 fails while the container is opened
                raise ConnectionError("S3 read failed")
            return super().read(size)

    class Broken(FakeStoredVideos):
        def open(self, bucket: str, key: str) -> io.BytesIO:
            return BrokenRead(video)

    fakes = Fakes()
    _job(fakes)
    with pytest.raises(ConnectionError):
        _service(fakes, Broken()).make(JOB_ID)
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.preview_failure is None


def test_a_stream_that_does_not_start_at_zero_is_previewed_from_its_first_frame() -> None:
    fakes = Fakes()
    _job(fakes)
    late = make_mp4(seconds=3.0, fps=10, size=(160, 90), blank_seconds=1.0, starts_at=12.0)
    result = _service(fakes, _stored(late)).make(JOB_ID)

    assert result["status"] == "ready", result
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.previews is not None
    assert 1.0 <= job.previews.poster.at_seconds < 2.0  # counted from the stream's first frame
    assert job.previews.animated.frame_count > 1
