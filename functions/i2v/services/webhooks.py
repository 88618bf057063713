"""Deliver one pipeline event to one webhook receiver, signed; a failed delivery raises (Lambda retries it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from i2v.domain.webhooks import WebhookTarget, receiver, sign, signing_key

logger = logging.getLogger(__name__)


class Poster(Protocol):
    def post(self, url: str, body: str, headers: dict[str, str]) -> int: ...


class WebhookDeliveryError(Exception):
    """The receiver did not take the event (non-2xx or no answer); names the receiver's host only."""


class WebhookService:
    def __init__(
        self,
        targets: Mapping[str, WebhookTarget],
        read_secret: Callable[[str], str],
        poster: Poster,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.targets = targets
        self.read_secret = read_secret
        self.poster = poster
        self.clock = clock

    def deliver(self, invocation: Mapping[str, Any]) -> int:
        """`invocation` is the rule's target input: {"webhook": name, "event": the EventBridge event}."""
        name, event = str(invocation["webhook"]), invocation["event"]
        target = self.targets.get(name)
        if target is None:
            raise WebhookDeliveryError(f"no webhook named {name!r} is configured")
        request = sign(event, signing_key(self.read_secret(target.secret_arn)), self.clock())
        try:
            status = self.poster.post(target.url, request.body, request.headers)
        except ConnectionError as error:
            raise WebhookDeliveryError(f"webhook {name}: {error}") from None
        if not 200 <= status < 300:
            raise WebhookDeliveryError(f"webhook {name}: {receiver(target.url)} answered {status}")
        logger.info(
            "webhook delivered",
            extra={"webhook": name, "webhook_id": request.headers["webhook-id"], "status": status},
        )
        return status
