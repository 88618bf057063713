"""Typed models of the i2v pipeline's EventBridge events and webhooks, one module per schema version.

from i2v_events import parse_event, VideoSucceeded     # the current version (v1)
from i2v_events.v1 import SucceededDetail               # or pin the version you read
"""

from i2v_events.v1 import (
    DetailType,
    FailedDetail,
    FailureCategory,
    ManifestCompleted,
    ManifestCompletedDetail,
    PipelineEvent,
    PreviewReadyDetail,
    SubmittedDetail,
    SucceededDetail,
    VideoFailed,
    VideoPreviewReady,
    VideoSubmitted,
    VideoSucceeded,
    parse_event,
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
