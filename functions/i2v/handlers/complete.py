"""Complete handler: Step Functions task that stores the video and marks the job succeeded."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.aws import aws_errors_are_transient
from i2v.domain.workflow import CompletePayload
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.wiring import complete_service as service

service()
init_phase.done()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CompletePayload.model_validate(event)
    with aws_errors_are_transient(), request.errors_its_definition_retries():
        result = service().complete(request.job_id, request.request_id, context.get_remaining_time_in_millis)
    logger.info("completed", extra={"status": result["status"]})
    return result
