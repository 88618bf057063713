"""What the event kinds of v1 share: the field types of their details (`SourceRef`, `OutputRef`, `FailureInfo`,
...), the enums those fields use, the bases of a detail and of a webhook message, and `Kind`, how a kind's module
(`i2v_events.v1.kinds.<kind>`) declares itself to the registry (`i2v_events.v1.kinds`). Imports no kind."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, create_model

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

SCHEMA_VERSION = "1"
# Presigned-URL signatures never appear in a failure message (the pipeline redacts them); the schema says so.
SIGNED_URL_PATTERN = "[?&](X-Amz-Signature|X-Amz-Credential|X-Goog-Signature|Signature)="
# Marks a field that may be absent but is never null (the schema generator drops the null branch).
NEVER_NULL = "x-i2v-never-null"
# Marks an object whose other keys are allowed (the schema generator leaves it open).
OPEN_OBJECT = "x-i2v-open"


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


def omittable(**constraints: Any) -> Any:
    """A field that may be absent but, when present, is never null."""
    return Field(default=None, json_schema_extra={NEVER_NULL: True}, **constraints)


class Detail(BaseModel):
    """Base of every detail model and of its parts: frozen, and tolerant of fields added later in v1."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SourceRef(Detail):
    """The uploaded image that started the job (`version_id` is null in an unversioned bucket)."""

    bucket: str
    key: str
    version_id: str | None


class Settings(Detail):
    """The generation settings sent to GMI (every request parameter except the images), named and typed as the
    job's `model` documents them (`i2v models show MODEL`): pixverse-v5.5 sends `duration: "5"`, veo 3.1
    `duration: 8`, wan2.6 `resolution`. Open, with only `prompt` named: the one relaxation of v1, forced by the
    model catalog (docs/subscribers.md); read a model's own keys with `model_extra`."""

    model_config = ConfigDict(extra="allow", frozen=True, json_schema_extra={OPEN_OBJECT: True})

    prompt: str | None = omittable()


class OutputRef(Detail):
    """Where the video was stored, and what the MP4 header says about it (when it could be read)."""

    bucket: str
    key: str
    size: int = Field(ge=1)
    content_type: str
    duration_seconds: float | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)


class PosterRef(Detail):
    """A still image of the video stored beside it (only when GMI gave a thumbnail)."""

    bucket: str
    key: str
    size: int = Field(ge=0)
    content_type: str


class FailureInfo(Detail):
    category: OpenFailureCategory
    message: str = Field(json_schema_extra={"not": {"pattern": SIGNED_URL_PATTERN}})


class JobDetail(Detail):
    """What every job event's detail carries (Manifest Completed is not a job event)."""

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


class Webhook(BaseModel):
    """Base of a webhook message (Standard Webhooks shape); each kind adds `type: Literal["video.<kind>"]`, `data`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    timestamp: datetime


_BUILDING = threading.Lock()


@dataclass(frozen=True)
class Kind:
    """One event kind of v1 as its module declares it; the registry (`i2v_events.v1.kinds`) derives the rest."""

    module: str  # the kind's module (its `__name__`), whose last part is the kind's name
    detail_type: str  # the EventBridge detail-type
    when: str  # when the pipeline publishes it: the kind's cell in docs/subscribers.md's table (generated)
    detail: type[Detail]
    webhook: type[Webhook]
    event_name: str  # the name of its whole-event model in its module, built on first read
    sample: Mapping[str, Any]  # one event as a subscriber receives it (samples/<kind>.json is generated from it)

    @property
    def name(self) -> str:
        """The kind's short name: its schema and sample file name, its webhook type is `video.<name>`."""
        return self.module.rsplit(".", 1)[-1]

    @property
    def webhook_type(self) -> str:
        return f"video.{self.name}"

    def event(self) -> type[EventBridgeModel]:
        """The whole-event model (loads Powertools' parser models the first time)."""
        model: type[EventBridgeModel] = getattr(sys.modules[self.module], self.event_name)
        return model

    def module_getattr(self) -> Callable[[str], Any]:
        """The kind module's `__getattr__`: its whole-event model, built when first read. Powertools' parser
        models take tens of milliseconds to import; the pipeline's functions build details only."""

        def whole_event(name: str) -> Any:
            if name != self.event_name:
                raise AttributeError(f"module {self.module!r} has no attribute {name!r}")
            with _BUILDING:  # one class per kind, even when two threads read it first at once
                namespace = sys.modules[self.module].__dict__
                if name not in namespace:
                    namespace[name] = self._build()
                return namespace[name]

        return whole_event

    def _build(self) -> type[EventBridgeModel]:
        # The same model the module declares for type checkers (a test compares the two).
        from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

        detail_type: Any = Literal[self.detail_type]  # type: ignore[valid-type]
        model: type[EventBridgeModel] = create_model(
            self.event_name,
            __base__=EventBridgeModel,
            __module__=self.module,
            detail_type=(detail_type, Field(alias="detail-type")),
            detail=(self.detail, ...),
        )
        return model
