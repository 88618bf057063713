"""The job record: the one item of the jobs table that tells a job's whole story (its events: i2v.domain.events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from i2v.domain.budgets import SpendReservation
from i2v.domain.jobs import Failure, JobStatus
from i2v.domain.manifest import ManifestLine
from i2v.domain.previews import PreviewFailure, Previews
from i2v.domain.source import SourceObject


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SourceRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None = None
    etag: str = ""
    sequencer: str = ""
    size: int = 0
    content_type: str | None = None

    @classmethod
    def of(cls, source: SourceObject) -> SourceRef:
        return cls(
            bucket=source.bucket,
            key=source.key,
            version_id=source.version_id,
            etag=source.etag,
            sequencer=source.sequencer,
            size=source.size,
        )


class StoredObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    size: int
    content_type: str


class OutputRef(StoredObject):
    """The video, and what its MP4 header said while it streamed (None when it could not be read)."""

    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None


class ManifestLineRef(BaseModel):
    """The manifest line a job came from."""

    model_config = ConfigDict(frozen=True)

    manifest_id: str
    bucket: str
    key: str
    version_id: str | None = None
    line: int

    @classmethod
    def of(cls, line: ManifestLine) -> ManifestLineRef:
        ref = line.manifest
        return cls(
            manifest_id=ref.manifest_id, bucket=ref.bucket, key=ref.key, version_id=ref.version_id, line=line.line
        )


# The poster: the still GMI gave beside the video (thumbnail_image_url), stored next to it.
PosterRef = StoredObject


class JobRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_id: str
    status: JobStatus
    attempt: int = 1
    source: SourceRef
    settings: dict[str, Any] = Field(default_factory=dict)
    model: str
    # The end frame (metadata `end_frame`), checked and pinned to its version like the source.
    end_frame: SourceRef | None = None
    # The settings sidecar (i2v.domain.sidecar) the job first read valid settings from, pinned to that version:
    # a deferral or a retry reads the same settings, whatever was written to the key since.
    sidecar: SourceRef | None = None
    # A manifest line's job (i2v.domain.manifest): which line, and its settings (the sidecar layer of this job).
    manifest_line: ManifestLineRef | None = None
    line_settings: dict[str, Any] | None = None
    request_id: str | None = None
    gmi_status: str | None = None
    output: OutputRef | None = None
    poster: PosterRef | None = None
    # Made from the video's own frames by the previews function, after the Succeeded event (or why not).
    previews: Previews | None = None
    preview_failure: PreviewFailure | None = None
    timestamps: dict[str, str] = Field(default_factory=dict)
    created_at: str
    updated_at: str
    poll_count: int = 0
    generation_seconds: float | None = None
    # Set with generation_seconds on success: the sparse by-time-class index the polling policy learns from.
    history_key: str | None = None
    failure: Failure | None = None
    execution_name: str | None = None
    # The status whose event was last published: a retry after a lost PutEvents re-announces, nothing else does.
    announced: str | None = None
    # While `submitting`: when the submitting invocation's time is up (epoch seconds).
    submit_lease_until: float | None = None
    # When the last submission began (epoch seconds): with the lease, the window reconciliation searches.
    submit_started_at: float | None = None
    # Its turn in the shared submission pace (epoch seconds), while it waits `deferred` for it.
    pace_slot_at: float | None = None
    # Outage riding: when GMI was first found unavailable for this job (epoch seconds), and how often since.
    unavailable_since: float | None = None
    unavailable_looks: int = 0
    # When a POST of this job that drew a 503 was sent (epoch seconds): GMI may have created the job anyway, so
    # until the job is submitted each further POST first looks for it in GMI's request list from then on.
    post_503_since: float | None = None
    # When the latest POST that drew a 503 was sent: GMI's list is read (and the job POSTed again) only once it has
    # settled after it (reconcile.SETTLE_SECONDS).
    post_503_last: float | None = None
    # What GMI will charge, computed from the settings before the POST (i2v.domain.pricing), and whose rule it
    # is: setting, gmi, documented, or none (then no estimate).
    estimated_cost_usd: float | None = None
    price_source: str | None = None
    # When the sweeper last sent this job on (epoch seconds): it does not act again while that message may run.
    swept_at: float | None = None
    # The money it holds in a day's dollar budgets (i2v.domain.budgets), until given back: set with `submitting`,
    # removed when GMI provably took nothing (a refusal, or an ambiguous job reconciled as not created).
    budget_reserved: SpendReservation | None = None

    @property
    def source_id(self) -> str:
        return f"{self.source.bucket}/{self.source.key}"
