"""The body of a pipeline webhook (Standard Webhooks shape: `type`, `timestamp`, `data`).

Verify the `webhook-id` / `webhook-timestamp` / `webhook-signature` headers first, with any Standard Webhooks
library (e.g. `standardwebhooks.Webhook("whsec_...").verify(body, headers)`), then:

    message = parse_webhook(body)
    if message.type == "video.succeeded":
        message.data.output.key        # a type checker knows data is a SucceededDetail here

Each kind's message model is in its module (`i2v_events.v1.kinds.<kind>`), the union in the registry
(`i2v_events.v1.kinds`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from i2v_events.v1 import kinds
from i2v_events.v1.kinds import AnyWebhook, WebhookMessage
from i2v_events.v1.kinds.failed import FailedWebhook
from i2v_events.v1.kinds.manifest_completed import ManifestCompletedWebhook
from i2v_events.v1.kinds.preview_ready import PreviewReadyWebhook
from i2v_events.v1.kinds.submitted import SubmittedWebhook
from i2v_events.v1.kinds.succeeded import SucceededWebhook

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
WEBHOOK_TYPES = kinds.WEBHOOK_TYPES
_WEBHOOK: TypeAdapter[AnyWebhook] = TypeAdapter(WebhookMessage)


def parse_webhook(body: str | bytes) -> AnyWebhook:
    """A verified webhook body, typed (raises pydantic.ValidationError if it is not a v1 pipeline webhook)."""
    raw: Any = json.loads(body)
    if not isinstance(raw, dict) or raw.get("type") not in WEBHOOK_TYPES:
        raise ValueError(f"not a pipeline webhook type: {raw.get('type') if isinstance(raw, dict) else raw!r}")
    return _WEBHOOK.validate_python(raw)
