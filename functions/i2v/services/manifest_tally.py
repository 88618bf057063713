"""A manifest line's end, counted once, and its manifest marked complete when every line has ended.

A line ends when its job ends (succeeded, failed, timed_out, rejected), when its image is missing, or when its
image already had a job from elsewhere. Callers are the places a job ends (beside `count_job_end`).
"""

from __future__ import annotations

import logging

from i2v.domain.record import JobRecord
from i2v.services.ports import ManifestSummaryPort

logger = logging.getLogger(__name__)


def end_line(manifests: ManifestSummaryPort, manifest_id: str, line: int, outcome: str) -> None:
    manifests.end_line(manifest_id, line, outcome)
    # Settled even when the end was counted before: that invocation may have died before marking completion.
    settle(manifests, manifest_id)


def end_job_line(manifests: ManifestSummaryPort | None, job: JobRecord) -> None:
    """The job that just ended, if a manifest line made it."""
    if manifests is not None and job.manifest_line is not None:
        end_line(manifests, job.manifest_line.manifest_id, job.manifest_line.line, str(job.status))


def settle(manifests: ManifestSummaryPort, manifest_id: str) -> bool:
    """Mark the manifest complete once its split is done and every line has ended (True: this call did)."""
    summary = manifests.get(manifest_id)
    if summary is None or summary.completed_at is not None or not summary.every_line_ended:
        return False
    if not manifests.mark_completed(manifest_id):
        return False
    logger.info(
        "manifest complete: every line has ended",
        extra={"manifest": summary.manifest.key, "lines": summary.lines, "bad_lines": summary.bad_total},
    )
    return True
