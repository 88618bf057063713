"""Whole EventBridge events of schema version 1: Powertools' `EventBridgeModel` with a typed `detail`.

    from aws_lambda_powertools.utilities.parser import event_parser
    from i2v_events.v1 import VideoSucceeded

    @event_parser(model=VideoSucceeded)
    def handler(event: VideoSucceeded, context) -> None:
        print(event.detail.output.key)

Or any of them: `parse_event(raw)` returns the model that matches the event's `detail-type`.

Each kind's whole event is declared in its module (`i2v_events.v1.kinds.<kind>`) and built when first read; this
module (loaded lazily by `i2v_events` and `i2v_events.v1`) reads them all, so importing it loads Powertools'
parser models.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, TypeAdapter

from i2v_events.v1.kinds import KINDS
from i2v_events.v1.kinds.failed import VideoFailed
from i2v_events.v1.kinds.manifest_completed import ManifestCompleted
from i2v_events.v1.kinds.preview_ready import VideoPreviewReady
from i2v_events.v1.kinds.submitted import VideoSubmitted
from i2v_events.v1.kinds.succeeded import VideoSucceeded

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    from i2v_events.v1.kinds import AnyEvent, PipelineEvent
else:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    # The registry writes the unions out for type checkers; at run time they are every kind's whole event.
    AnyEvent = functools.reduce(operator.or_, [kind.event() for kind in KINDS.values()])
    PipelineEvent = Annotated[AnyEvent, Field(discriminator="detail_type")]

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

#: kind -> the whole event's model (the kinds of `DETAIL_KINDS`).
EVENT_MODELS: dict[str, type[EventBridgeModel]] = {name: kind.event() for name, kind in KINDS.items()}
_PIPELINE_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(PipelineEvent)


def parse_event(raw: Mapping[str, Any] | str | bytes) -> AnyEvent:
    """An EventBridge event of the pipeline (a dict, or its JSON), typed by its `detail-type`.

    Raises pydantic.ValidationError for anything else (another detail-type, a detail that is not v1).
    """
    data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return _PIPELINE_EVENT.validate_python(data)
