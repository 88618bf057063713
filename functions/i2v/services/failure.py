"""Failure use case: whatever ended the job, record it once and announce it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from i2v.domain.claims import TransitionRejectedError
from i2v.domain.events import DetailType, failed_detail
from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.redaction import redact, truncate
from i2v.services.manifest_tally import end_job_line
from i2v.services.metrics import announce_failure, count_job_end
from i2v.services.ports import JobRepositoryPort, ManifestSummaryPort, MetricsSink, NullMetrics, PublisherPort

logger = logging.getLogger(__name__)


@dataclass
class FailureService:
    repo: JobRepositoryPort
    publisher: PublisherPort
    metrics: MetricsSink = field(default_factory=NullMetrics)
    manifests: ManifestSummaryPort | None = None  # a manifest line's job that ends here is counted

    def record(self, job_id: str, failure: Failure) -> str:
        status = JobStatus.TIMED_OUT if failure.category == FailureCategory.TIMED_OUT else JobStatus.FAILED
        failure = Failure(category=failure.category, message=truncate(redact(failure.message)))
        try:
            job = self.repo.transition(job_id, status, {"failure": failure.model_dump(mode="json")})
        except TransitionRejectedError as already:
            # Already ended (e.g. succeeded, or recorded by an earlier attempt): never overwrite.
            logger.info("job %s already %s; failure not recorded again", job_id, already.current)
            if already.current == status:
                self._announce_again(job_id, failure)
            return str(already.current)
        count_job_end(self.metrics, job)
        end_job_line(self.manifests, self.publisher, job)
        announce_failure(self.publisher, self.repo, job)
        return str(job.status)

    def _announce_again(self, job_id: str, failure: Failure) -> None:
        """A retry of the same recording (its first attempt may have died before PutEvents went through):
        announce again, at least once, from the stored record."""
        job = self.repo.get(job_id)
        if job is not None and job.failure is not None and job.failure.category == failure.category:
            self.publisher.publish(DetailType.FAILED, failed_detail(job))
