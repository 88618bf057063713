"""Fail handler: records a job's end from the workflow's failure path or from an execution that died."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.workflow import FailureState
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.wiring import failure_service as service


class AnnouncementLostError(Exception):
    """Not retried by the state machine: the execution fails loudly instead of ending as if all was well."""


class ExecutionStatusDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    status: str = "FAILED"
    input: str | None = None
    error: str | None = None
    cause: str | None = None


class ExecutionStatusChange(BaseModel):
    """EventBridge's notice of an execution that failed, timed out or was aborted outside our failure path.
    Only the fields read here: Powertools' EventBridgeModel would add ~0.1 s of imports to the cold start."""

    model_config = ConfigDict(extra="ignore")

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionStatusDetail


class _StartedFor(BaseModel):
    """The one field of the execution input this handler needs (the input may predate today's contract)."""

    job_id: str | None = None


FailEvent: TypeAdapter[ExecutionStatusChange | FailureState] = TypeAdapter(ExecutionStatusChange | FailureState)


def failure_from_execution_event(event: ExecutionStatusChange) -> tuple[str, Failure]:
    detail = event.detail
    started_for = _StartedFor.model_validate_json(detail.input or "{}")
    job_id = started_for.job_id or detail.name.rsplit("-", 1)[0]
    category = FailureCategory.TIMED_OUT if detail.status == "TIMED_OUT" else FailureCategory.WORKFLOW_ERROR
    reason = " ".join(part for part in (detail.error, detail.cause) if part)
    return job_id, Failure(category=category, message=f"workflow execution {detail.status.lower()} {reason}".strip())


service()
init_phase.done()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = FailEvent.validate_python(event)
    if isinstance(parsed, ExecutionStatusChange):
        job_id, failure = failure_from_execution_event(parsed)
    else:
        job_id, failure = parsed.job_id, parsed.failure()
    logger.set_correlation_id(job_id)
    status = service().record(job_id, failure)
    if status == JobStatus.SUCCEEDED and isinstance(parsed, FailureState) and parsed.error is not None:
        # Complete failed after the job was recorded succeeded (e.g. the bus kept refusing the Succeeded
        # event through every retry): fail the execution, so the ExecutionsFailed alarm says so.
        raise AnnouncementLostError(
            f"job {job_id} succeeded, but the Complete step failed afterwards ({failure.message}); "
            "its Succeeded event may not have been published"
        )
    logger.info("failure recorded", extra={"status": status, "category": failure.category})
    return {"job_id": job_id, "status": status, "failure": failure.model_dump(mode="json")}
