"""Sweeper handler: invoked by EventBridge Scheduler every few minutes; moves on every forgotten job."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.wiring import sweeper_service as service

service()
init_phase.done()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    # The schedule's event carries nothing the sweep needs: every run looks at the whole table.
    return service().sweep(context.get_remaining_time_in_millis)
