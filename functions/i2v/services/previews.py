"""Previews use case: after a job succeeded, make its poster and animated preview from the stored video.

Off the critical path: the Succeeded event has gone out before this runs, and nothing here can fail the job.
A video that cannot be decoded is recorded on the job (`preview_failure`) and counted, never raised, so it
is never retried; only an error reaching AWS (S3, DynamoDB, the bus) raises, for Lambda's bounded retry.
"""

from __future__ import annotations

import io
import logging
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from i2v.domain.events import DetailType, preview_ready_detail
from i2v.domain.jobs import JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.previews import AnimatedPreview, PosterFrame, PreviewFailure, Previews, preview_keys
from i2v.domain.record import JobRecord
from i2v.domain.rendering import UndecodableVideoError
from i2v.services.ports import (
    JobRepositoryPort,
    MetricsSink,
    NullMetrics,
    PreviewRendererPort,
    PublisherPort,
    StoredVideoPort,
    VideoStoragePort,
)

logger = logging.getLogger(__name__)


@dataclass
class PreviewService:
    repo: JobRepositoryPort
    videos: StoredVideoPort
    store: VideoStoragePort
    publisher: PublisherPort
    render: PreviewRendererPort  # i2v.adapters.media.render_previews (PyAV), in the previews function alone
    metrics: MetricsSink = field(default_factory=NullMetrics)

    def make(self, job_id: str) -> dict[str, Any]:
        job = self.repo.get(job_id)
        if job is None or job.status != JobStatus.SUCCEEDED or job.output is None:
            logger.warning("no succeeded job with a video: nothing to preview", extra={"job_id": job_id})
            return {"job_id": job_id, "status": "skipped"}
        output = job.output
        poster_key, animated_key = preview_keys(output.key)
        if job.previews is not None and job.previews.poster.key == poster_key:
            # A second delivery of the Succeeded event: announce again (at least once), decode nothing.
            self.publisher.publish(DetailType.PREVIEW_READY, preview_ready_detail(job))
            return {"job_id": job_id, "status": "ready", "previews": job.previews.model_dump()}
        try:
            with closing(self.videos.open(output.bucket, output.key)) as video:
                rendered = self.render(video)
        except UndecodableVideoError as error:
            return self._undecodable(job, str(error))
        metadata = {"job-id": job.job_id, "attempt": str(job.attempt)}
        bucket = output.bucket
        self.store.upload(io.BytesIO(rendered.poster.data), bucket, poster_key, "image/jpeg", metadata)
        self.store.upload(io.BytesIO(rendered.animated.data), bucket, animated_key, "image/webp", metadata)
        previews = Previews(
            poster=PosterFrame(
                bucket=bucket,
                key=poster_key,
                size=len(rendered.poster.data),
                content_type="image/jpeg",
                width=rendered.poster.width,
                height=rendered.poster.height,
                at_seconds=round(rendered.poster_seconds, 3),
            ),
            animated=AnimatedPreview(
                bucket=bucket,
                key=animated_key,
                size=len(rendered.animated.data),
                content_type="image/webp",
                width=rendered.animated.width,
                height=rendered.animated.height,
                frame_count=rendered.frame_count,
                fps=round(rendered.fps, 3),
                duration_seconds=round(rendered.clip_seconds, 3),
            ),
        )
        self.repo.annotate(job_id, {"previews": previews.model_dump()})
        job = job.model_copy(update={"previews": previews})
        self.metrics.add_metric(MetricName.PREVIEWS_MADE, "Count", 1)
        self.publisher.publish(DetailType.PREVIEW_READY, preview_ready_detail(job))
        logger.info("previews stored", extra={"job_id": job_id, "poster_at": previews.poster.at_seconds})
        return {"job_id": job_id, "status": "ready", "previews": previews.model_dump()}

    def _undecodable(self, job: JobRecord, message: str) -> dict[str, Any]:
        failure = PreviewFailure(reason="undecodable", message=message)
        logger.warning("stored video cannot be decoded: no previews", extra={"job_id": job.job_id, "why": message})
        self.repo.annotate(job.job_id, {"preview_failure": failure.model_dump()})
        self.metrics.add_metric(MetricName.UNDECODABLE_VIDEOS, "Count", 1)
        return {"job_id": job.job_id, "status": "undecodable", "reason": failure.reason, "message": message}
