"""Webhook signer: a rule on the bus invokes it asynchronously with {"webhook": name, "event": event}."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.webhooks import WebhookPoster, read_secret
from i2v.config import WebhookEnv
from i2v.handlers.observability import logger, tracer
from i2v.services.webhooks import WebhookService


@cache
def service() -> WebhookService:
    return WebhookService(targets=WebhookEnv.from_environ().webhooks, read_secret=read_secret, poster=WebhookPoster())


init_phase.done()


@logger.inject_lambda_context(correlation_id_path="event.detail.job_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    status = service().deliver(event)
    return {"webhook": event["webhook"], "status": status}
