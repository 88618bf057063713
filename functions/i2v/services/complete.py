"""Complete use case: stream the video into S3, mark the job succeeded, announce it."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from i2v.domain import catalog
from i2v.domain.claims import TransitionRejectedError
from i2v.domain.downloads import (
    IMAGE_CONTENT_TYPES,
    READ_TIMEOUT_SECONDS,
    DownloadInterruptedError,
    VideoGoneError,
    VideoTooLargeError,
    VideoUrlRejectedError,
)
from i2v.domain.events import DetailType, succeeded_detail
from i2v.domain.gmi_answers import GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.image_check import CONTENT_TYPES, detect_image_format
from i2v.domain.jobs import TERMINAL, FailureCategory, JobFailedError, JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.options import CompleteOptions
from i2v.domain.polling import history_key
from i2v.domain.record import JobRecord, OutputRef, PosterRef
from i2v.domain.source import output_key_for
from i2v.domain.video_probe import NotAVideoError, ProbedReader
from i2v.domain.workflow import VideoNotStoredError
from i2v.services.manifest_tally import end_job_line
from i2v.services.metrics import count_job_end
from i2v.services.ports import (
    GmiPort,
    JobRepositoryPort,
    ManifestSummaryPort,
    MetricsSink,
    NullMetrics,
    PublisherPort,
    VideoSourcePort,
    VideoStoragePort,
)

logger = logging.getLogger(__name__)

# A poster is a still image: anything larger is not one.
MAX_POSTER_BYTES = 20 * 1024 * 1024
POSTER_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# Kept of the invocation when the download stops: abort the multipart upload, answer (or record and announce).
STOP_RESERVE_SECONDS = 20


def _no_deadline() -> int:
    return 900_000


def first_byte_timeout(seconds_left: Callable[[], float]) -> float:
    """The read timeout of a GET to the video host: never past the stop."""
    return max(1.0, min(READ_TIMEOUT_SECONDS, seconds_left()))


@dataclass
class CompleteService:
    options: CompleteOptions
    repo: JobRepositoryPort
    gmi: GmiPort
    store: VideoStoragePort
    publisher: PublisherPort
    videos: VideoSourcePort  # GMI's video and thumbnail URLs, opened after the SSRF checks
    metrics: MetricsSink = field(default_factory=NullMetrics)
    manifests: ManifestSummaryPort | None = None  # a manifest line's job that ends here is counted

    def complete(self, job_id: str, request_id: str, time_left_ms: Callable[[], int] = _no_deadline) -> dict[str, Any]:
        """`time_left_ms`: the invocation's time left (Lambda's context). Downloads stop STOP_RESERVE_SECONDS
        before it, so the function answers (VideoNotStoredError: the store loop) instead of being killed."""

        def seconds_left() -> float:
            return time_left_ms() / 1000 - STOP_RESERVE_SECONDS

        job = self.repo.get(job_id)
        if job is None:
            raise JobFailedError(FailureCategory.INTERNAL, f"job {job_id} has no record")
        if job.status == JobStatus.SUCCEEDED and job.output is not None:
            # A retry after the record was written: announce again (at least once) and stop.
            self.publisher.publish(DetailType.SUCCEEDED, succeeded_detail(job))
            return self._result(job)
        if job.status in TERMINAL:
            return {"status": job.status, "job_id": job_id}
        request = self._fetch_request(request_id)
        output_key = output_key_for(job.source.key, job_id, self.options.input_prefix, self.options.output_prefix)
        try:
            output = self._copy(request, job, output_key, seconds_left)
        except VideoGoneError as gone:
            logger.warning("video URL refused (%s); asking GMI for a fresh one", gone)
            try:
                request = self._fetch_request(request_id)
                output = self._copy(request, job, output_key, seconds_left)
            except VideoGoneError as still_gone:
                raise JobFailedError(FailureCategory.ARTIFACT_EXPIRED, str(still_gone)) from None
        return self._succeed(job, request, output, self._store_poster(request, job, output.key, seconds_left))

    def _fetch_request(self, request_id: str) -> GmiRequest:
        try:
            return self.gmi.get(request_id)
        except GmiRetryableError as error:
            raise VideoNotStoredError(str(error), FailureCategory.DOWNLOAD_FAILED) from None
        except GmiPermanentError as error:
            raise JobFailedError(FailureCategory.GMI_NOT_FOUND, str(error)) from None

    def _copy(
        self, request: GmiRequest, job: JobRecord, output_key: str, seconds_left: Callable[[], float]
    ) -> OutputRef:
        url = request.video_url
        if url is None:
            raise JobFailedError(FailureCategory.MISSING_VIDEO_URL, "GMI reported success without a video URL")
        try:
            video = self.videos.open(url, timeout=first_byte_timeout(seconds_left))
        except VideoUrlRejectedError as rejected:
            raise JobFailedError(FailureCategory.VIDEO_URL_REJECTED, str(rejected)) from None
        except DownloadInterruptedError as interrupted:
            raise VideoNotStoredError(str(interrupted), FailureCategory.DOWNLOAD_FAILED) from None
        if video.content_length is not None and video.content_length > self.options.max_video_bytes:
            video.close()
            raise JobFailedError(FailureCategory.DOWNLOAD_FAILED, f"video of {video.content_length} bytes is too large")
        stream = video.body(self.options.max_video_bytes, seconds_left)
        # Checked on its first bytes before anything is uploaded, measured (MP4 header) while it streams.
        probed = ProbedReader(stream)
        metadata = {"job-id": job.job_id, "request-id": request.request_id, "attempt": str(job.attempt)}
        try:
            with video:
                container = probed.peek()
                content_type = "video/webm" if container == "webm" else "video/mp4"
                if container == "webm":
                    output_key = output_key.removesuffix(".mp4") + ".webm"
                self.store.upload(probed, self.options.output_bucket, output_key, content_type, metadata)
        except NotAVideoError as junk:
            self.metrics.add_metric(MetricName.INVALID_VIDEOS, "Count", 1)
            raise JobFailedError(FailureCategory.INVALID_VIDEO, str(junk)) from None
        except Exception:
            # The stream says whether the download broke, however s3transfer wrapped the error.
            if stream.too_large is not None:  # without a Content-Length: found out while streaming
                raise JobFailedError(FailureCategory.DOWNLOAD_FAILED, str(stream.too_large)) from None
            if stream.interrupted is None:
                raise
            raise VideoNotStoredError(str(stream.interrupted), FailureCategory.DOWNLOAD_FAILED) from None
        facts = probed.facts
        return OutputRef(
            bucket=self.options.output_bucket,
            key=output_key,
            size=stream.received,
            content_type=content_type,
            duration_seconds=facts.duration_seconds if facts else None,
            width=facts.width if facts else None,
            height=facts.height if facts else None,
        )

    def _store_poster(
        self, request: GmiRequest, job: JobRecord, video_key: str, seconds_left: Callable[[], float]
    ) -> PosterRef | None:
        """The thumbnail GMI gave, stored beside the video. Best effort: a poster never fails the job."""
        url = request.poster_url
        if url is None:
            return None
        try:
            image = self.videos.open(url, timeout=first_byte_timeout(seconds_left), content_types=IMAGE_CONTENT_TYPES)
            with image:
                if image.content_length is not None and image.content_length > MAX_POSTER_BYTES:
                    raise VideoTooLargeError(f"thumbnail of {image.content_length} bytes is too large")
                body = image.body(MAX_POSTER_BYTES, seconds_left)
                data = b"".join(iter(lambda: body.read(1024 * 1024), b""))
            image_format = detect_image_format(data)
            if image_format is None or CONTENT_TYPES[image_format] not in POSTER_EXTENSIONS:
                raise ValueError("the thumbnail is not a JPEG, PNG or WebP image")
            content_type = CONTENT_TYPES[image_format]
            key = f"{video_key.rsplit('.', 1)[0]}.poster.{POSTER_EXTENSIONS[content_type]}"
            metadata = {"job-id": job.job_id, "request-id": request.request_id, "attempt": str(job.attempt)}
            self.store.upload(io.BytesIO(data), self.options.output_bucket, key, content_type, metadata)
        except Exception as error:  # best effort by design: the video is what was paid for
            logger.warning("poster of job %s not stored: %s", job.job_id, type(error).__name__)
            self.metrics.add_metric(MetricName.POSTERS_FAILED, "Count", 1)
            return None
        return PosterRef(bucket=self.options.output_bucket, key=key, size=len(data), content_type=content_type)

    def _succeed(
        self, job: JobRecord, request: GmiRequest, output: OutputRef, poster: PosterRef | None = None
    ) -> dict[str, Any]:
        generation = None
        if request.created_at and request.updated_at and request.updated_at >= request.created_at:
            generation = float(request.updated_at - request.created_at)
        try:
            job = self.repo.transition(
                job.job_id,
                JobStatus.SUCCEEDED,
                {
                    "output": output.model_dump(exclude_none=True),
                    "generation_seconds": generation,
                    # Only a success with a known generation time teaches the polling policy (sparse index).
                    **({"history_key": key} if generation is not None and (key := self._history_key(job)) else {}),
                    "gmi_status": request.status,
                    **({"poster": poster.model_dump()} if poster else {}),
                },
            )
        except TransitionRejectedError as stale:
            current = self.repo.get(job.job_id)
            if current is None or current.status != JobStatus.SUCCEEDED:
                raise JobFailedError(
                    FailureCategory.INTERNAL, f"cannot complete a job in status {stale.current}"
                ) from None
            job = current
        count_job_end(self.metrics, job)
        end_job_line(self.manifests, self.publisher, job)
        self.metrics.add_metric(MetricName.VIDEO_BYTES, "Bytes", output.size)
        if generation is not None:
            self.metrics.add_metric(MetricName.GENERATION_SECONDS, "Seconds", generation)
        self.publisher.publish(DetailType.SUCCEEDED, succeeded_detail(job))
        return self._result(job)

    @staticmethod
    def _history_key(job: JobRecord) -> str | None:
        try:
            return history_key(job.model, catalog.time_class_of(job.model, job.settings))
        except LookupError:  # a model since removed from the catalog: the video matters, the lesson does not
            return None

    @staticmethod
    def _result(job: JobRecord) -> dict[str, Any]:
        output = job.output.model_dump() if job.output else None
        return {"status": job.status, "job_id": job.job_id, "output": output}
