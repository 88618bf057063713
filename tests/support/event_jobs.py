"""Representative jobs and a manifest summary, one or more per event kind, for the event contract's unit tests:
`full` variants set every optional field a detail can carry, `bare` variants leave them out."""

from __future__ import annotations

from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.manifest import ManifestRef, ManifestSummary
from i2v.domain.previews import AnimatedPreview, PosterFrame, Previews
from i2v.domain.record import JobRecord, OutputRef, PosterRef, SourceRef

NOW = "2026-12-07T10:15:42.120Z"
JOB_ID = "6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e"
SOURCE = SourceRef(bucket="in", key="incoming/cat.png", version_id="v1", etag="e", sequencer="0A", size=10)
OUTPUT = OutputRef(
    bucket="out",
    key="videos/cat.mp4",
    size=4096,
    content_type="video/mp4",
    duration_seconds=5.0,
    width=1280,
    height=720,
)
PREVIEWS = Previews(
    poster=PosterFrame(
        bucket="out", key="videos/cat.frame.jpg", size=900, content_type="image/jpeg", width=1280, height=720,
        at_seconds=0.4,
    ),
    animated=AnimatedPreview(
        bucket="out", key="videos/cat.preview.webp", size=9000, content_type="image/webp", width=320, height=180,
        frame_count=40, fps=10.0, duration_seconds=4.0,
    ),
)  # fmt: skip


def job(status: JobStatus, **fields: object) -> JobRecord:
    base: dict[str, object] = {
        "job_id": JOB_ID,
        "status": status,
        "attempt": 2,
        "source": SOURCE,
        "settings": {"duration": "5", "prompt": "the cat blinks", "quality": "720p"},
        "model": "pixverse-v5.5-i2v",
        "request_id": "req-7f3a",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return JobRecord.model_validate({**base, **fields})


PRICED = {"estimated_cost_usd": 0.56, "price_source": "documented"}
JOBS: dict[str, dict[str, JobRecord]] = {
    "submitted": {
        "full": job(JobStatus.SUBMITTED, **PRICED),
        "bare": job(
            JobStatus.SUBMITTED, settings={"prompt": "p"}, source=SOURCE.model_copy(update={"version_id": None})
        ),
    },
    "succeeded": {
        "full": job(
            JobStatus.SUCCEEDED,
            output=OUTPUT,
            generation_seconds=74.2,
            poster=PosterRef(bucket="out", key="videos/cat.poster.jpg", size=300, content_type="image/jpeg"),
            **PRICED,
        ),
        "bare": job(
            JobStatus.SUCCEEDED,
            output=OutputRef(bucket="out", key="videos/cat.mp4", size=4096, content_type="video/mp4"),
        ),
    },
    "failed": {
        "full": job(JobStatus.FAILED, failure=Failure(category=FailureCategory.GMI_FAILED, message="render exploded")),
        "bare": job(
            JobStatus.REJECTED,
            request_id=None,
            failure=Failure(category=FailureCategory.UNSUPPORTED_FORMAT, message="not an image"),
        ),
        "ambiguous": job(JobStatus.SUBMIT_AMBIGUOUS, request_id=None),
        "timed_out": job(JobStatus.TIMED_OUT, failure=Failure(category=FailureCategory.TIMED_OUT, message="late")),
    },
    "preview_ready": {"full": job(JobStatus.SUCCEEDED, output=OUTPUT, previews=PREVIEWS)},
}
MANIFEST = ManifestRef(bucket="in", key="manifests/batch.jsonl", version_id="mv1")
SUMMARIES = {
    "full": ManifestSummary(
        manifest_id=MANIFEST.manifest_id, manifest=MANIFEST, lines=3, ended=3, bad_total=1, split_done=True
    ),
    "bare": ManifestSummary(
        manifest_id="0" * 32, manifest=ManifestRef(bucket="in", key="manifests/empty.csv"), split_done=True
    ),
}
#: What each kind's builder (`i2v.domain.events.<kind>_detail`) is given, per variant: a new kind adds its own.
INPUTS: dict[str, dict[str, object]] = {**JOBS, "manifest_completed": dict(SUMMARIES)}
