"""Poll handler: Step Functions task that checks the GMI request once and says when to look again."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.aws import aws_errors_are_transient
from i2v.domain.workflow import PollState
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.wiring import poll_service as service
from i2v.services.store_later import look

service()
init_phase.done()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = PollState.model_validate(event)
    time_left = context.get_remaining_time_in_millis
    with aws_errors_are_transient():
        result = look(service(), state, time_left)
    logger.info(
        "polled",
        extra={
            "outcome": result.outcome,
            "gmi_status": result.gmi_status,
            "next_wait_seconds": result.next_wait_seconds,
            "poll_count": result.poll_count,
            "failed_stores": result.failed_stores,
        },
    )
    return result.dumped()
