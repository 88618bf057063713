"""Complete use case: stream the video into S3, mark the job succeeded, announce it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests

from i2v.adapters.gmi import GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.adapters.repository import TransitionRejectedError
from i2v.adapters.video_source import (
    CheckedStream,
    DownloadInterruptedError,
    VideoGoneError,
    VideoUrlRejectedError,
    open_video,
)
from i2v.config import CompleteEnv
from i2v.domain.jobs import TERMINAL, FailureCategory, JobFailedError, JobStatus, TransientError
from i2v.domain.record import EventDetailType, JobRecord, OutputRef, succeeded_detail
from i2v.domain.source import output_key_for
from i2v.services.metrics import MetricName, count_job_end
from i2v.services.ports import GmiPort, JobRepositoryPort, MetricsSink, NullMetrics, PublisherPort, VideoStoragePort

logger = logging.getLogger(__name__)


@dataclass
class CompleteService:
    env: CompleteEnv
    repo: JobRepositoryPort
    gmi: GmiPort
    store: VideoStoragePort
    publisher: PublisherPort
    session: requests.Session = field(default_factory=requests.Session)
    metrics: MetricsSink = field(default_factory=NullMetrics)

    def complete(self, job_id: str, request_id: str) -> dict[str, Any]:
        job = self.repo.get(job_id)
        if job is None:
            raise JobFailedError(FailureCategory.INTERNAL, f"job {job_id} has no record")
        if job.status == JobStatus.SUCCEEDED and job.output is not None:
            # A retry after the record was written: announce again (at least once) and stop.
            self.publisher.publish(EventDetailType.SUCCEEDED, succeeded_detail(job))
            return self._result(job)
        if job.status in TERMINAL:
            return {"status": job.status, "job_id": job_id}
        request = self._fetch_request(request_id)
        output_key = output_key_for(job.source.key, job_id, self.env.input_prefix, self.env.output_prefix)
        try:
            size, content_type = self._copy(request, job, output_key)
        except VideoGoneError as gone:
            logger.warning("video URL refused (%s); asking GMI for a fresh one", gone)
            try:
                size, content_type = self._copy(self._fetch_request(request_id), job, output_key)
            except VideoGoneError as still_gone:
                raise JobFailedError(FailureCategory.ARTIFACT_EXPIRED, str(still_gone)) from None
        return self._succeed(
            job,
            request,
            OutputRef(bucket=self.env.output_bucket, key=output_key, size=size, content_type=content_type),
        )

    def _fetch_request(self, request_id: str) -> GmiRequest:
        try:
            return self.gmi.get(request_id)
        except GmiRetryableError as error:
            raise TransientError(str(error), FailureCategory.DOWNLOAD_FAILED) from None
        except GmiPermanentError as error:
            raise JobFailedError(FailureCategory.GMI_NOT_FOUND, str(error)) from None

    def _copy(self, request: GmiRequest, job: JobRecord, output_key: str) -> tuple[int, str]:
        url = request.video_url
        if url is None:
            raise JobFailedError(FailureCategory.MISSING_VIDEO_URL, "GMI reported success without a video URL")
        try:
            video = open_video(url, self.env.allowed_hosts, self.env.allow_private_video_addresses, self.session)
        except VideoUrlRejectedError as rejected:
            raise JobFailedError(FailureCategory.VIDEO_URL_REJECTED, str(rejected)) from None
        except DownloadInterruptedError as interrupted:
            raise TransientError(str(interrupted), FailureCategory.DOWNLOAD_FAILED) from None
        if video.content_length is not None and video.content_length > self.env.max_video_bytes:
            video.response.close()
            raise JobFailedError(FailureCategory.DOWNLOAD_FAILED, f"video of {video.content_length} bytes is too large")
        stream = CheckedStream(video.response.raw, video.content_length, self.env.max_video_bytes)
        metadata = {"job-id": job.job_id, "request-id": request.request_id, "attempt": str(job.attempt)}
        try:
            with video.response:
                self.store.upload(stream, self.env.output_bucket, output_key, "video/mp4", metadata)
        except Exception:
            # The stream says whether the download broke, however s3transfer wrapped the error.
            if stream.interrupted is None:
                raise
            raise TransientError(str(stream.interrupted), FailureCategory.DOWNLOAD_FAILED) from None
        return stream.received, "video/mp4"

    def _succeed(self, job: JobRecord, request: GmiRequest, output: OutputRef) -> dict[str, Any]:
        generation = None
        if request.created_at and request.updated_at and request.updated_at >= request.created_at:
            generation = float(request.updated_at - request.created_at)
        try:
            job = self.repo.transition(
                job.job_id,
                JobStatus.SUCCEEDED,
                {
                    "output": output.model_dump(),
                    "generation_seconds": generation,
                    "gmi_status": request.status,
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
        self.metrics.add_metric(MetricName.VIDEO_BYTES, "Bytes", output.size)
        if generation is not None:
            self.metrics.add_metric(MetricName.GENERATION_SECONDS, "Seconds", generation)
        self.publisher.publish(EventDetailType.SUCCEEDED, succeeded_detail(job))
        return self._result(job)

    @staticmethod
    def _result(job: JobRecord) -> dict[str, Any]:
        output = job.output.model_dump() if job.output else None
        return {"status": job.status, "job_id": job.job_id, "output": output}
