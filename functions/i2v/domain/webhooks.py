"""Webhook payloads and their Standard Webhooks signature (https://www.standardwebhooks.com/).

Signing is hand-written (HMAC-SHA256 over `id.timestamp.body`, a few lines of the standard library) rather than
a runtime dependency in every function's bundle; the tests verify it with the `standardwebhooks` library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

import i2v_events.webhooks

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
#: EventBridge detail-type -> webhook `type` ("Video Generation Succeeded" -> "video.succeeded").
WEBHOOK_TYPES = {str(detail_type): name for name, detail_type in i2v_events.webhooks.WEBHOOK_TYPES.items()}
USER_AGENT = "i2v-pipeline-webhooks/1"


class WebhookTarget(BaseModel):
    """One receiver, as the signer's WEBHOOKS variable lists it (no secret: only where to read it)."""

    model_config = ConfigDict(frozen=True)

    url: str
    secret_arn: str


class InvalidSecretError(ValueError):
    """The stored secret is not a Standard Webhooks key (the message never contains it)."""


@dataclass(frozen=True)
class SignedRequest:
    body: str
    headers: dict[str, str]


def receiver(url: str) -> str:
    """How a receiver is named in logs and errors: scheme and host (its path or query may carry a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


def signing_key(secret: str) -> bytes:
    """The HMAC key: the base64 part of `whsec_<base64>` (or of the bare base64 value)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecretError("the webhook signing secret is not base64 (Standard Webhooks format)") from None
    if len(key) < 16:
        raise InvalidSecretError("the webhook signing secret is shorter than 16 bytes")
    return key


def webhook_body(event: Mapping[str, Any]) -> str:
    """`{"type", "timestamp", "data"}`: the event's kind, its time and its detail (compact JSON, sent as is)."""
    payload = {"type": WEBHOOK_TYPES[str(event["detail-type"])], "timestamp": event["time"], "data": event["detail"]}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signature(key: bytes, message_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(event: Mapping[str, Any], key: bytes, now: float) -> SignedRequest:
    """The request for one attempt. The id is the event's (the same on every retry, so receivers de-duplicate);
    the timestamp is the attempt's (receivers reject stale ones)."""
    body = webhook_body(event)
    message_id, timestamp = f"msg_{event['id']}", int(now)
    return SignedRequest(
        body=body,
        headers={
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(key, message_id, timestamp, body),
        },
    )
