"""Webhook signer: a rule on the bus invokes it asynchronously with {"webhook": name, "event": event}."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.handlers.observability import logger, tracer
from i2v.handlers.wiring import webhook_service as service

init_phase.done()


@logger.inject_lambda_context(correlation_id_path="event.detail.job_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    status = service().deliver(event)
    return {"webhook": event["webhook"], "status": status}
