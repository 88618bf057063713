"""Schema version 1 of the pipeline's event details: what each EventBridge event carries in `detail`.

These models are the one source of the v1 contract: `schemas/events/v1/*.json` and the EventBridge Schema
Registry are generated from them (`i2v_events.schemas`). They read tolerantly: unknown fields are ignored and
enum values added later in v1 arrive as plain strings, so a subscriber built on an older 1.x keeps working while
v1 grows (within v1, changes are additive only: docs/subscribers.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

__all__ = [
    "DETAIL_KINDS",
    "DETAIL_MODELS",
    "SCHEMA_VERSION",
    "DetailType",
    "FailedDetail",
    "FailedStatus",
    "FailureCategory",
    "FailureInfo",
    "ManifestCompletedDetail",
    "ManifestRef",
    "OutputRef",
    "PosterRef",
    "PreviewReadyDetail",
    "PreviewsRef",
    "PriceSource",
    "Settings",
    "SourceRef",
    "SubmittedDetail",
    "SucceededDetail",
]
SCHEMA_VERSION = "1"
# Presigned-URL signatures never appear in a failure message (the pipeline redacts them); the schema says so.
SIGNED_URL_PATTERN = "[?&](X-Amz-Signature|X-Amz-Credential|X-Goog-Signature|Signature)="
# Marks a field that may be absent but is never null (the schema generator drops the null branch).
NEVER_NULL = "x-i2v-never-null"


class DetailType(StrEnum):
    SUBMITTED = "Video Generation Submitted"
    SUCCEEDED = "Video Generation Succeeded"
    FAILED = "Video Generation Failed"
    PREVIEW_READY = "Video Preview Ready"
    # Added in v1 (additive): a manifest's every line has ended (issue 27).
    MANIFEST_COMPLETED = "Video Manifest Completed"


class FailureCategory(StrEnum):
    SOURCE_MISSING = "source_missing"
    EMPTY_IMAGE = "empty_image"
    IMAGE_TOO_LARGE = "image_too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"
    INVALID_SETTINGS = "invalid_settings"
    BUDGET = "budget"
    GMI_REJECTED = "gmi_rejected"
    GMI_UNAUTHORIZED = "gmi_unauthorized"
    GMI_NOT_FOUND = "gmi_not_found"
    GMI_FAILED = "gmi_failed"
    GMI_CANCELLED = "gmi_cancelled"
    IMAGE_UNREACHABLE = "image_unreachable"
    TIMED_OUT = "timed_out"
    SUBMIT_AMBIGUOUS = "submit_ambiguous"
    MISSING_VIDEO_URL = "missing_video_url"
    VIDEO_URL_REJECTED = "video_url_rejected"
    ARTIFACT_EXPIRED = "artifact_expired"
    DOWNLOAD_FAILED = "download_failed"
    WORKFLOW_ERROR = "workflow_error"
    INTERNAL = "internal"
    # Added in v1 (additive): GMI kept answering 5xx/connection errors; the downloaded bytes are not a video.
    GMI_UNAVAILABLE = "gmi_unavailable"
    INVALID_VIDEO = "invalid_video"


class PriceSource(StrEnum):
    """Whose price rule gave `estimated_cost_usd` (added in v1): the deployment's `gmi_prices` setting, GMI's
    own `price_info`, GMI's documented price, or none known (then no estimate)."""

    SETTING = "setting"
    GMI = "gmi"
    DOCUMENTED = "documented"
    NONE = "none"


class FailedStatus(StrEnum):
    REJECTED = "rejected"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SUBMIT_AMBIGUOUS = "submit_ambiguous"


E = TypeVar("E", bound=StrEnum)


def _known(enum: type[E]) -> BeforeValidator:
    """Known values become enum members; a value added later in v1 stays a plain string."""
    return BeforeValidator(lambda value: enum(value) if value in enum._value2member_map_ else value)


def _listed(enum: type[E]) -> WithJsonSchema:
    """The published schema lists the values emitted today (the models read newer ones too)."""
    return WithJsonSchema({"type": "string", "enum": [member.value for member in enum]})


def _utc_milliseconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Every time of v1 as the pipeline writes it: ISO-8601 in UTC to the millisecond, "Z" (2026-12-07T10:15:42.120Z).
Timestamp = Annotated[datetime, PlainSerializer(_utc_milliseconds, return_type=str, when_used="json")]

# "Open" enums: typed as the enum or a str, documented as the enum.
OpenFailureCategory = Annotated[FailureCategory | str, _known(FailureCategory), _listed(FailureCategory)]
OpenFailedStatus = Annotated[FailedStatus | str, _known(FailedStatus), _listed(FailedStatus)]
OpenPriceSource = Annotated[PriceSource | str, _known(PriceSource), _listed(PriceSource)]


def _omittable(**constraints: Any) -> Any:
    """A field that may be absent but, when present, is never null."""
    return Field(default=None, json_schema_extra={NEVER_NULL: True}, **constraints)


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SourceRef(_Detail):
    """The uploaded image that started the job (`version_id` is null in an unversioned bucket)."""

    bucket: str
    key: str
    version_id: str | None


# Marks an object whose other keys are allowed (the schema generator leaves it open).
OPEN_OBJECT = "x-i2v-open"


class Settings(_Detail):
    """The generation settings sent to GMI (every request parameter except the images), named and typed as the
    job's `model` documents them (`i2v models show MODEL`): pixverse-v5.5 sends `duration: "5"`, veo 3.1
    `duration: 8`, wan2.6 `resolution`. Open, with only `prompt` named: the one relaxation of v1, forced by the
    model catalog (docs/subscribers.md); read a model's own keys with `model_extra`."""

    model_config = ConfigDict(extra="allow", frozen=True, json_schema_extra={OPEN_OBJECT: True})

    prompt: str | None = _omittable()


class OutputRef(_Detail):
    """Where the video was stored, and what the MP4 header says about it (when it could be read)."""

    bucket: str
    key: str
    size: int = Field(ge=1)
    content_type: str
    duration_seconds: float | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)


class PosterRef(_Detail):
    """A still image of the video stored beside it (only when GMI gave a thumbnail)."""

    bucket: str
    key: str
    size: int = Field(ge=0)
    content_type: str


class FailureInfo(_Detail):
    category: OpenFailureCategory
    message: str = Field(json_schema_extra={"not": {"pattern": SIGNED_URL_PATTERN}})


class _JobDetail(_Detail):
    schema_version: Literal["1"]
    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    attempt: int = Field(ge=1)
    model: str = Field(min_length=1)
    occurred_at: Timestamp
    source: SourceRef


# Added in v1 (additive): the job's price at GMI, computed from its settings before it was sent.
ESTIMATE_TEXT = (
    "USD GMI will charge for the job, computed from its settings before it was sent; absent when no price is "
    "known (and on jobs submitted before prices existed)"
)
PRICE_SOURCE_TEXT = "whose price rule gave the estimate: gmi_prices setting, GMI's price_info, GMI's docs, or none"


class SubmittedDetail(_JobDetail):
    """GMI accepted the job (`request_id` is GMI's id for it)."""

    request_id: str = Field(min_length=1)
    status: Literal["submitted"]
    settings: Settings
    estimated_cost_usd: float | None = _omittable(ge=0, description=ESTIMATE_TEXT)
    price_source: OpenPriceSource | None = _omittable(description=PRICE_SOURCE_TEXT)


class SucceededDetail(_JobDetail):
    """The video is in the output bucket."""

    request_id: str
    status: Literal["succeeded"]
    output: OutputRef
    generation_seconds: float | None = Field(default=None, ge=0)
    poster: PosterRef | None = None
    estimated_cost_usd: float | None = _omittable(ge=0, description=ESTIMATE_TEXT)
    price_source: OpenPriceSource | None = _omittable(description=PRICE_SOURCE_TEXT)


class FailedDetail(_JobDetail):
    """The job ended without a video (rejected, failed, timed out), or waits for an operator (submit_ambiguous)."""

    request_id: str | None = None
    status: OpenFailedStatus
    failure: FailureInfo


class PreviewImageRef(_Detail):
    """An image made from the video's own frames, stored beside it."""

    bucket: str
    key: str
    size: int = Field(ge=1)
    content_type: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class PosterFrameRef(PreviewImageRef):
    """The poster (JPEG): the first frame that is not blank, taken `at_seconds` into the video."""

    at_seconds: float = Field(ge=0)


class AnimatedPreviewRef(PreviewImageRef):
    """The animated preview (WebP) of the video's first seconds, at most 500 KB."""

    frame_count: int = Field(ge=1)
    fps: float = Field(ge=0)
    duration_seconds: float = Field(ge=0)


class PreviewsRef(_Detail):
    poster: PosterFrameRef
    animated: AnimatedPreviewRef


class VideoRef(_Detail):
    bucket: str
    key: str


class PreviewReadyDetail(_JobDetail):
    """Added in v1 (a new kind): the poster and animated preview made from a stored video. GMI's own
    thumbnail, when it sent one, stays the Succeeded event's `poster`."""

    request_id: str | None = None
    status: Literal["succeeded"]
    output: VideoRef
    previews: PreviewsRef


class ManifestRef(_Detail):
    """The manifest object (`.jsonl` or `.csv`) whose lines started the jobs."""

    bucket: str
    key: str
    version_id: str | None


class ManifestCompletedDetail(_Detail):
    """Every line of a manifest has ended (added in v1): each line's job ended (succeeded, failed, timed_out or
    rejected: those jobs' own events say which), its image was missing, or its image already had a job. Not a job
    event: no `job_id`; the counts come from the manifest's summary record."""

    schema_version: Literal["1"]
    manifest_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    manifest: ManifestRef
    occurred_at: Timestamp
    lines: int = Field(ge=0, description="lines that became job messages (a good line of the manifest)")
    ended: int = Field(ge=0, description="of those, lines whose end was counted (every one, by now)")
    bad_lines: int = Field(ge=0, description="lines rejected with their line number (in the summary record)")


#: detail-type -> detail model, the whole of v1.
DETAIL_MODELS: dict[DetailType, type[_Detail]] = {
    DetailType.SUBMITTED: SubmittedDetail,
    DetailType.SUCCEEDED: SucceededDetail,
    DetailType.FAILED: FailedDetail,
    DetailType.PREVIEW_READY: PreviewReadyDetail,
    DetailType.MANIFEST_COMPLETED: ManifestCompletedDetail,
}
#: The short names used in file names and webhook settings.
DETAIL_KINDS: dict[str, DetailType] = {
    "submitted": DetailType.SUBMITTED,
    "succeeded": DetailType.SUCCEEDED,
    "failed": DetailType.FAILED,
    "preview_ready": DetailType.PREVIEW_READY,
    "manifest_completed": DetailType.MANIFEST_COMPLETED,
}
