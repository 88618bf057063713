"""Complete handler: Step Functions task that stores the video and marks the job succeeded."""

from __future__ import annotations

from functools import cache
from typing import Any

import requests
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from i2v.adapters.aws import aws_errors_are_transient
from i2v.adapters.gmi import GmiClient
from i2v.adapters.publisher import EventPublisher
from i2v.adapters.repository import JobRepository
from i2v.adapters.secrets import ApiKeyReader
from i2v.adapters.storage import VideoStore
from i2v.config import CompleteEnv
from i2v.handlers.observability import logger, metrics, tracer
from i2v.services.complete import CompleteService


class CompleteInput(BaseModel):
    job_id: str
    request_id: str
    attempt: int = 1


@cache
def service() -> CompleteService:
    env = CompleteEnv.from_environ()
    gmi = GmiClient(
        env.gmi_base_url,
        ApiKeyReader(env.gmi_api_key_secret_id),
        env.gmi_model_id,
        env.gmi_timeout_seconds,
        requests.Session(),
    )
    return CompleteService(
        env=env,
        repo=JobRepository(env.jobs_table_name),
        gmi=gmi,
        store=VideoStore(part_size=env.video_part_size_bytes),
        publisher=EventPublisher(env.event_bus_name, env.event_source),
        session=requests.Session(),
        metrics=metrics,
    )


service()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CompleteInput.model_validate(event)
    with aws_errors_are_transient():
        result = service().complete(request.job_id, request.request_id)
    logger.info("completed", extra={"status": result["status"]})
    return result
