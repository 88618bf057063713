"""Schema version 1 of the i2v pipeline's events (`detail.schema_version == "1"`).

The details (`i2v_events.v1.details`: pydantic alone) load at once; the whole-event models (`i2v_events.v1.events`,
built on Powertools' EventBridgeModel, whose parser models take tens of milliseconds to import) load when first
used, so the pipeline's own functions, which build details only, never pay for them on a cold start.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from i2v_events.v1.details import (
    DETAIL_KINDS,
    DETAIL_MODELS,
    SCHEMA_VERSION,
    DetailType,
    FailedDetail,
    FailedStatus,
    FailureCategory,
    FailureInfo,
    ManifestCompletedDetail,
    ManifestRef,
    OutputRef,
    PosterRef,
    PreviewReadyDetail,
    PreviewsRef,
    PriceSource,
    Settings,
    SourceRef,
    SubmittedDetail,
    SucceededDetail,
)

if TYPE_CHECKING:
    from i2v_events.v1._deprecated import AspectRatio, Duration, Quality, Style, ThinkingType
    from i2v_events.v1.events import (
        EVENT_MODELS,
        ManifestCompleted,
        PipelineEvent,
        VideoFailed,
        VideoPreviewReady,
        VideoSubmitted,
        VideoSucceeded,
        parse_event,
    )

_EVENTS = (
    "EVENT_MODELS",
    "ManifestCompleted",
    "PipelineEvent",
    "VideoFailed",
    "VideoPreviewReady",
    "VideoSubmitted",
    "VideoSucceeded",
    "parse_event",
)
# pixverse-v5.5's setting enums: exported by 1.0, used by no model since the catalog; removed in 2.0.
_DEPRECATED = ("AspectRatio", "Duration", "Quality", "Style", "ThinkingType")


def __getattr__(name: str) -> Any:
    if name in _EVENTS:
        value = getattr(importlib.import_module("i2v_events.v1.events"), name)
    elif name in _DEPRECATED:
        warnings.warn(
            f"i2v_events.v1.{name} is deprecated (settings are per model since the catalog; removed in 2.0)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module("i2v_events.v1._deprecated"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "DETAIL_KINDS",
    "DETAIL_MODELS",
    "EVENT_MODELS",
    "SCHEMA_VERSION",
    "AspectRatio",
    "DetailType",
    "Duration",
    "FailedDetail",
    "FailedStatus",
    "FailureCategory",
    "FailureInfo",
    "ManifestCompleted",
    "ManifestCompletedDetail",
    "ManifestRef",
    "OutputRef",
    "PipelineEvent",
    "PosterRef",
    "PreviewReadyDetail",
    "PreviewsRef",
    "PriceSource",
    "Quality",
    "Settings",
    "SourceRef",
    "Style",
    "SubmittedDetail",
    "SucceededDetail",
    "ThinkingType",
    "VideoFailed",
    "VideoPreviewReady",
    "VideoSubmitted",
    "VideoSucceeded",
    "parse_event",
]
