"""Fail handler: records a job's end from the workflow's failure path or from an execution that died."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.publisher import EventPublisher
from i2v.adapters.repository import JobRepository
from i2v.config import FailEnv
from i2v.domain.jobs import Failure, FailureCategory, JobStatus, parse_failure
from i2v.handlers.observability import logger, metrics, tracer
from i2v.services.failure import FailureService

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


class AnnouncementLostError(Exception):
    """Not retried by the state machine: the execution fails loudly instead of ending as if all was well."""


@cache
def service() -> FailureService:
    env = FailEnv.from_environ()
    return FailureService(
        repo=JobRepository(env.jobs_table_name),
        publisher=EventPublisher(env.event_bus_name, env.event_source),
        metrics=metrics,
    )


def failure_from_workflow(state: dict[str, Any]) -> tuple[str, Failure]:
    """The poll's own verdict, or the error a Catch put under $.error."""
    job_id = str(state["job_id"])
    verdict = (state.get("poll") or {}).get("failure")
    if verdict:
        return job_id, Failure.model_validate(verdict)
    error = state.get("error") or {}
    cause = error.get("Cause") or ""
    try:
        message = str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        message = str(cause)
    return job_id, parse_failure(message or str(error.get("Error", "unknown error")), FailureCategory.WORKFLOW_ERROR)


def failure_from_execution_event(event: dict[str, Any]) -> tuple[str, Failure]:
    """An execution that failed, timed out or was aborted outside our failure path."""
    detail = event["detail"]
    execution_input = json.loads(detail.get("input") or "{}")
    job_id = str(execution_input.get("job_id") or str(detail["name"]).rsplit("-", 1)[0])
    status = str(detail.get("status", "FAILED"))
    category = FailureCategory.TIMED_OUT if status == "TIMED_OUT" else FailureCategory.WORKFLOW_ERROR
    reason = " ".join(str(part) for part in (detail.get("error"), detail.get("cause")) if part)
    return job_id, Failure(category=category, message=f"workflow execution {status.lower()} {reason}".strip())


service()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == EXECUTION_STATUS_CHANGE:
        job_id, failure = failure_from_execution_event(event)
    else:
        job_id, failure = failure_from_workflow(event)
    logger.set_correlation_id(job_id)
    status = service().record(job_id, failure)
    if status == JobStatus.SUCCEEDED and event.get("error"):
        # Complete failed after the job was recorded succeeded (e.g. the bus kept refusing the Succeeded
        # event through every retry): fail the execution, so the ExecutionsFailed alarm says so.
        raise AnnouncementLostError(
            f"job {job_id} succeeded, but the Complete step failed afterwards ({failure.message}); "
            "its Succeeded event may not have been published"
        )
    logger.info("failure recorded", extra={"status": status, "category": failure.category})
    return {"job_id": job_id, "status": status, "failure": failure.model_dump(mode="json")}
