"""A manifest line's end, counted once, and its manifest marked complete (one Manifest Completed event) when every
line has ended.

A line ends when its job ends (succeeded, failed, timed_out, rejected), when its image is missing, or when its
image already had a job from elsewhere. Callers are the places a job ends (beside `count_job_end`).
"""

from __future__ import annotations

import logging

from i2v.domain.events import DetailType, manifest_completed_detail
from i2v.domain.record import JobRecord
from i2v.services.ports import ManifestSummaryPort, PublisherPort

logger = logging.getLogger(__name__)


def end_line(
    manifests: ManifestSummaryPort, publisher: PublisherPort, manifest_id: str, line: int, outcome: str
) -> None:
    manifests.end_line(manifest_id, line, outcome)
    # Settled even when the end was counted before: that invocation may have died before marking completion.
    settle(manifests, publisher, manifest_id)


def end_job_line(manifests: ManifestSummaryPort | None, publisher: PublisherPort, job: JobRecord) -> None:
    """The job that just ended, if a manifest line made it."""
    if manifests is not None and job.manifest_line is not None:
        end_line(manifests, publisher, job.manifest_line.manifest_id, job.manifest_line.line, str(job.status))


def settle(manifests: ManifestSummaryPort, publisher: PublisherPort, manifest_id: str) -> bool:
    """Once the split is done and every line has ended: mark the manifest complete, announce it, remember the
    announcement (True: this call announced). A PutEvents that fails raises and the message that ended the last
    line comes back; its retry finds the mark without the announcement and announces: at least once, as every
    event of the pipeline (subscribers de-duplicate on manifest_id)."""
    summary = manifests.get(manifest_id)
    if summary is None or summary.announced_at is not None or not summary.every_line_ended:
        return False
    if summary.completed_at is None and not manifests.mark_completed(manifest_id):
        return False  # another invocation marked it just now, and announces it
    publisher.publish(DetailType.MANIFEST_COMPLETED, manifest_completed_detail(summary))
    manifests.mark_announced(manifest_id)
    logger.info(
        "manifest complete: every line has ended",
        extra={"manifest": summary.manifest.key, "lines": summary.lines, "bad_lines": summary.bad_total},
    )
    return True
