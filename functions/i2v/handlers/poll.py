"""Poll handler: Step Functions task that checks the GMI request once and says when to look again."""

from __future__ import annotations

from functools import cache
from typing import Any

import requests
from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.aws import aws_errors_are_transient
from i2v.adapters.gmi import GmiClient
from i2v.adapters.repository import JobRepository
from i2v.adapters.secrets import ApiKeyReader
from i2v.config import PollingEnv
from i2v.handlers.observability import logger, metrics, tracer
from i2v.services.poll import PollService, PollState


@cache
def service() -> PollService:
    env = PollingEnv.from_environ()
    gmi = GmiClient(
        env.gmi_base_url,
        ApiKeyReader(env.gmi_api_key_secret_id),
        env.gmi_model_id,
        env.gmi_timeout_seconds,
        requests.Session(),
    )
    return PollService(repo=JobRepository(env.jobs_table_name), gmi=gmi, policy=env.poll_policy, metrics=metrics)


service()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with aws_errors_are_transient():
        result = service().poll(PollState.model_validate(event), context.get_remaining_time_in_millis)
    logger.info("polled", extra={k: result[k] for k in ("outcome", "gmi_status", "next_wait_seconds", "poll_count")})
    return result
