"""Whole EventBridge events of schema version 1: Powertools' `EventBridgeModel` with a typed `detail`.

    from aws_lambda_powertools.utilities.parser import event_parser
    from i2v_events.v1 import VideoSucceeded

    @event_parser(model=VideoSucceeded)
    def handler(event: VideoSucceeded, context) -> None:
        print(event.detail.output.key)

Or any of the four: `parse_event(raw)` returns the model that matches the event's `detail-type`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field, TypeAdapter

from i2v_events.v1.details import (
    FailedDetail,
    ManifestCompletedDetail,
    PreviewReadyDetail,
    SubmittedDetail,
    SucceededDetail,
)

__all__ = [
    "EVENT_MODELS",
    "ManifestCompleted",
    "PipelineEvent",
    "VideoFailed",
    "VideoPreviewReady",
    "VideoSubmitted",
    "VideoSucceeded",
    "parse_event",
]


class VideoSubmitted(EventBridgeModel):
    detail_type: Literal["Video Generation Submitted"] = Field(alias="detail-type")
    detail: SubmittedDetail


class VideoSucceeded(EventBridgeModel):
    detail_type: Literal["Video Generation Succeeded"] = Field(alias="detail-type")
    detail: SucceededDetail


class VideoFailed(EventBridgeModel):
    detail_type: Literal["Video Generation Failed"] = Field(alias="detail-type")
    detail: FailedDetail


class VideoPreviewReady(EventBridgeModel):
    detail_type: Literal["Video Preview Ready"] = Field(alias="detail-type")
    detail: PreviewReadyDetail


class ManifestCompleted(EventBridgeModel):
    detail_type: Literal["Video Manifest Completed"] = Field(alias="detail-type")
    detail: ManifestCompletedDetail


#: kind -> the whole event's model (the kinds of `DETAIL_KINDS`).
EVENT_MODELS: dict[str, type[EventBridgeModel]] = {
    "submitted": VideoSubmitted,
    "succeeded": VideoSucceeded,
    "failed": VideoFailed,
    "preview_ready": VideoPreviewReady,
    "manifest_completed": ManifestCompleted,
}
AnyEvent = VideoSubmitted | VideoSucceeded | VideoFailed | VideoPreviewReady | ManifestCompleted
PipelineEvent = Annotated[AnyEvent, Field(discriminator="detail_type")]
_PIPELINE_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(PipelineEvent)


def parse_event(raw: Mapping[str, Any] | str | bytes) -> AnyEvent:
    """An EventBridge event of the pipeline (a dict, or its JSON), typed by its `detail-type`.

    Raises pydantic.ValidationError for anything else (another detail-type, a detail that is not v1).
    """
    data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return _PIPELINE_EVENT.validate_python(data)
