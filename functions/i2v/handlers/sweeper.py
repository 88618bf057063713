"""Sweeper handler: invoked by EventBridge Scheduler every few minutes; moves on every forgotten job."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.queue import SubmitQueue
from i2v.adapters.workflow import Executions
from i2v.config import SweeperEnv
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.wiring import event_publisher, job_repository
from i2v.services.failure import FailureService
from i2v.services.sweeper import Sweeper, windows


@cache
def service() -> Sweeper:
    env = SweeperEnv.from_environ()
    repo = job_repository(env)
    return Sweeper(
        jobs=repo,
        repo=repo,
        executions=Executions(env.state_machine_arn),
        submit_queue=SubmitQueue(env.submit_queue_url),
        failures=FailureService(repo=repo, publisher=event_publisher(env), metrics=metrics),
        windows=windows(env.sweep_submit_message_seconds),
        limit_per_status=env.sweep_limit_per_status,
        metrics=metrics,
    )


service()
init_phase.done()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    # The schedule's event carries nothing the sweep needs: every run looks at the whole table.
    return service().sweep(context.get_remaining_time_in_millis)
