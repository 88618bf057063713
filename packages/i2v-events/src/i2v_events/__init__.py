"""Typed models of the i2v pipeline's EventBridge events and webhooks, one module per schema version.

from i2v_events import parse_event, VideoSucceeded     # the current version (v1)
from i2v_events.v1 import SucceededDetail               # or pin the version you read

The whole-event models (Powertools' EventBridgeModel) load when first used: see `i2v_events.v1`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from i2v_events.v1 import (
    DetailType,
    FailedDetail,
    FailureCategory,
    ManifestCompletedDetail,
    PreviewReadyDetail,
    SubmittedDetail,
    SucceededDetail,
)
from i2v_events.webhooks import (
    AnyWebhook,
    FailedWebhook,
    ManifestCompletedWebhook,
    PreviewReadyWebhook,
    SubmittedWebhook,
    SucceededWebhook,
    WebhookMessage,
    parse_webhook,
)

if TYPE_CHECKING:
    from i2v_events.v1.events import (
        ManifestCompleted,
        PipelineEvent,
        VideoFailed,
        VideoPreviewReady,
        VideoSubmitted,
        VideoSucceeded,
        parse_event,
    )

_EVENTS = (
    "ManifestCompleted",
    "PipelineEvent",
    "VideoFailed",
    "VideoPreviewReady",
    "VideoSubmitted",
    "VideoSucceeded",
    "parse_event",
)


def __getattr__(name: str) -> Any:
    if name not in _EVENTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from i2v_events import v1

    value = getattr(v1, name)
    globals()[name] = value
    return value


__all__ = [
    "AnyWebhook",
    "DetailType",
    "FailedDetail",
    "FailedWebhook",
    "FailureCategory",
    "ManifestCompleted",
    "ManifestCompletedDetail",
    "ManifestCompletedWebhook",
    "PipelineEvent",
    "PreviewReadyDetail",
    "PreviewReadyWebhook",
    "SubmittedDetail",
    "SubmittedWebhook",
    "SucceededDetail",
    "SucceededWebhook",
    "VideoFailed",
    "VideoPreviewReady",
    "VideoSubmitted",
    "VideoSucceeded",
    "WebhookMessage",
    "parse_event",
    "parse_webhook",
]
