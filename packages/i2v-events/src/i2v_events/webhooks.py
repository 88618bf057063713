"""The body of a pipeline webhook (Standard Webhooks shape: `type`, `timestamp`, `data`).

Verify the `webhook-id` / `webhook-timestamp` / `webhook-signature` headers first, with any Standard Webhooks
library (e.g. `standardwebhooks.Webhook("whsec_...").verify(body, headers)`), then:

    message = parse_webhook(body)
    if message.type == "video.succeeded":
        message.data.output.key        # a type checker knows data is a SucceededDetail here
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from i2v_events.v1.details import (
    DETAIL_KINDS,
    FailedDetail,
    ManifestCompletedDetail,
    PreviewReadyDetail,
    SubmittedDetail,
    SucceededDetail,
)

__all__ = [
    "AnyWebhook",
    "FailedWebhook",
    "ManifestCompletedWebhook",
    "PreviewReadyWebhook",
    "SubmittedWebhook",
    "SucceededWebhook",
    "WebhookMessage",
    "parse_webhook",
]

#: webhook `type` -> EventBridge detail-type ("video.succeeded" -> "Video Generation Succeeded").
WEBHOOK_TYPES = {f"video.{kind}": detail_type for kind, detail_type in DETAIL_KINDS.items()}


class _Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    timestamp: datetime


class SubmittedWebhook(_Webhook):
    type: Literal["video.submitted"]
    data: SubmittedDetail


class SucceededWebhook(_Webhook):
    type: Literal["video.succeeded"]
    data: SucceededDetail


class FailedWebhook(_Webhook):
    type: Literal["video.failed"]
    data: FailedDetail


class PreviewReadyWebhook(_Webhook):
    type: Literal["video.preview_ready"]
    data: PreviewReadyDetail


class ManifestCompletedWebhook(_Webhook):
    type: Literal["video.manifest_completed"]
    data: ManifestCompletedDetail


AnyWebhook = SubmittedWebhook | SucceededWebhook | FailedWebhook | PreviewReadyWebhook | ManifestCompletedWebhook
#: One model per `type`: `data` is parsed with exactly that type's detail model, and narrows with it.
WebhookMessage = Annotated[AnyWebhook, Field(discriminator="type")]
_WEBHOOK: TypeAdapter[AnyWebhook] = TypeAdapter(WebhookMessage)


def parse_webhook(body: str | bytes) -> AnyWebhook:
    """A verified webhook body, typed (raises pydantic.ValidationError if it is not a v1 pipeline webhook)."""
    raw: Any = json.loads(body)
    if not isinstance(raw, dict) or raw.get("type") not in WEBHOOK_TYPES:
        raise ValueError(f"not a pipeline webhook type: {raw.get('type') if isinstance(raw, dict) else raw!r}")
    return _WEBHOOK.validate_python(raw)
