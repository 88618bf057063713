"""Previews handler: a rule on the bus invokes it asynchronously with each 'Video Generation Succeeded' event."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.wiring import previews_service as service


class _SucceededDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class SucceededEvent(BaseModel):
    """Only what this handler reads of the event (the job record has the rest)."""

    model_config = ConfigDict(extra="ignore")

    detail_type: Literal["Video Generation Succeeded"] = Field(alias="detail-type")
    detail: _SucceededDetail


service()
init_phase.done()


@logger.inject_lambda_context(correlation_id_path="detail.job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A malformed event raises a ValidationError naming the field: no retry (the function's async config), DLQ.
    succeeded = SucceededEvent.model_validate(event)
    result = service().make(succeeded.detail.job_id)
    logger.info("previews", extra={"status": result["status"]})
    return result
