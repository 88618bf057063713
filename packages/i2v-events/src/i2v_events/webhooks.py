"""The body of a pipeline webhook (Standard Webhooks shape: `type`, `timestamp`, `data`).

Verify the `webhook-id` / `webhook-timestamp` / `webhook-signature` headers first, with any Standard Webhooks
library (e.g. `standardwebhooks.Webhook("whsec_...").verify(body, headers)`), then:

    message = parse_webhook(body)
    if isinstance(message.data, SucceededDetail): ...
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from i2v_events.v1.details import DETAIL_KINDS, DETAIL_MODELS, FailedDetail, SubmittedDetail, SucceededDetail

#: webhook `type` -> EventBridge detail-type ("video.succeeded" -> "Video Generation Succeeded").
WEBHOOK_TYPES = {f"video.{kind}": detail_type for kind, detail_type in DETAIL_KINDS.items()}


class WebhookMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    timestamp: datetime
    data: SubmittedDetail | SucceededDetail | FailedDetail

    @model_validator(mode="before")
    @classmethod
    def _data_by_type(cls, raw: Any) -> Any:
        # The type names the detail model: parse `data` with exactly that one (clear errors, no guessing).
        if isinstance(raw, dict) and raw.get("type") in WEBHOOK_TYPES and isinstance(raw.get("data"), dict):
            model = DETAIL_MODELS[WEBHOOK_TYPES[raw["type"]]]
            return {**raw, "data": model.model_validate(raw["data"])}
        return raw


def parse_webhook(body: str | bytes) -> WebhookMessage:
    """A verified webhook body, typed (raises pydantic.ValidationError if it is not a v1 pipeline webhook)."""
    raw = json.loads(body)
    if not isinstance(raw, dict) or raw.get("type") not in WEBHOOK_TYPES:
        raise ValueError(f"not a pipeline webhook type: {raw.get('type') if isinstance(raw, dict) else raw!r}")
    return WebhookMessage.model_validate(raw)
