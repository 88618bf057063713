"""The registry of v1's event kinds: one module per kind (`i2v_events.v1.kinds.<kind>`) holds its whole subscriber
contract (detail, whole event, webhook message, sample, docs text); this module lists them, and everything else
follows from `KINDS`: `DETAIL_MODELS`, `DETAIL_KINDS`, `WEBHOOK_TYPES`, the samples, `EVENT_MODELS`, the schema
files and the kinds table of docs/subscribers.md (`python -m i2v_events.schemas schemas/events/v1` writes those).

A new kind: its module, then here its import, its `DetailType` member, its `KINDS` entry and its members of the
unions below (written out: a type checker needs them literally). Reading `AnyEvent`, `PipelineEvent` or
`EVENT_MODELS` builds the whole events, which loads Powertools' parser models; nothing else here does.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from i2v_events.v1.fields import Detail, Kind
from i2v_events.v1.kinds import failed, manifest_completed, preview_ready, submitted, succeeded
from i2v_events.v1.kinds.failed import FailedWebhook
from i2v_events.v1.kinds.manifest_completed import ManifestCompletedWebhook
from i2v_events.v1.kinds.preview_ready import PreviewReadyWebhook
from i2v_events.v1.kinds.submitted import SubmittedWebhook
from i2v_events.v1.kinds.succeeded import SucceededWebhook

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    from i2v_events.v1.kinds.failed import VideoFailed
    from i2v_events.v1.kinds.manifest_completed import ManifestCompleted
    from i2v_events.v1.kinds.preview_ready import VideoPreviewReady
    from i2v_events.v1.kinds.submitted import VideoSubmitted
    from i2v_events.v1.kinds.succeeded import VideoSucceeded

__all__ = [
    "DETAIL_KINDS",
    "DETAIL_MODELS",
    "EVENT_MODELS",
    "KINDS",
    "WEBHOOK_TYPES",
    "AnyEvent",
    "AnyWebhook",
    "DetailType",
    "Kind",
    "PipelineEvent",
    "WebhookMessage",
]


class DetailType(StrEnum):
    SUBMITTED = submitted.KIND.detail_type
    SUCCEEDED = succeeded.KIND.detail_type
    FAILED = failed.KIND.detail_type
    PREVIEW_READY = preview_ready.KIND.detail_type
    # Added in v1 (additive): a manifest's every line has ended (issue 27).
    MANIFEST_COMPLETED = manifest_completed.KIND.detail_type


#: kind -> its declaration, in the order of the docs table (the one list of kinds).
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (submitted.KIND, succeeded.KIND, failed.KIND, preview_ready.KIND, manifest_completed.KIND)
}
#: detail-type -> detail model, the whole of v1.
DETAIL_MODELS: dict[DetailType, type[Detail]] = {DetailType(kind.detail_type): kind.detail for kind in KINDS.values()}
#: The short names used in file names and webhook settings.
DETAIL_KINDS: dict[str, DetailType] = {name: DetailType(kind.detail_type) for name, kind in KINDS.items()}
#: webhook `type` -> EventBridge detail-type ("video.succeeded" -> "Video Generation Succeeded").
WEBHOOK_TYPES: dict[str, DetailType] = {kind.webhook_type: DetailType(kind.detail_type) for kind in KINDS.values()}

AnyWebhook = SubmittedWebhook | SucceededWebhook | FailedWebhook | PreviewReadyWebhook | ManifestCompletedWebhook
#: One model per `type`: `data` is parsed with exactly that type's detail model, and narrows with it.
WebhookMessage = Annotated[AnyWebhook, Field(discriminator="type")]

if TYPE_CHECKING:
    AnyEvent = VideoSubmitted | VideoSucceeded | VideoFailed | VideoPreviewReady | ManifestCompleted
    PipelineEvent = Annotated[AnyEvent, Field(discriminator="detail_type")]
    #: kind -> the whole event's model.
    EVENT_MODELS: dict[str, type[EventBridgeModel]]
else:
    # At run time the whole events come from `i2v_events.v1.events`, which builds them from KINDS when first read.
    def __getattr__(name: str) -> Any:
        if name in ("AnyEvent", "PipelineEvent", "EVENT_MODELS"):
            return getattr(importlib.import_module("i2v_events.v1.events"), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
