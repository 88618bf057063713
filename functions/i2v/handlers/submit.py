"""Submit handler: SQS batch of S3 notifications -> submit service, with per-record failures."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.adapters.breaker import GmiSubmitBreaker
from i2v.adapters.manifests import ManifestSummaries
from i2v.adapters.pacing import SubmitPace
from i2v.adapters.queue import SubmitQueue
from i2v.adapters.spend_metrics import SpendMetrics
from i2v.adapters.storage import SourceImages
from i2v.adapters.workflow import WorkflowStarter
from i2v.config import SubmitEnv
from i2v.domain.source import job_id_for
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.parsing import Ignore, Line, Reconcile, Split, Upload, commands_from_body
from i2v.handlers.sqs_batch import partial_batch_response
from i2v.handlers.wiring import event_publisher, gmi_client, job_repository
from i2v.services.manifest import ManifestSplitter, submit_line
from i2v.services.submit import SubmitService
from i2v.services.submit_gate import SubmitGate


@cache
def service() -> SubmitService:
    env = SubmitEnv.from_environ()
    return SubmitService(
        env=env,
        repo=job_repository(env),
        images=SourceImages(),
        gmi=gmi_client(env),
        publisher=event_publisher(env),
        workflow=WorkflowStarter(env.state_machine_arn),
        requeue=SubmitQueue(env.submit_queue_url),
        metrics=metrics,
        spend_metrics=SpendMetrics(namespace=metrics.namespace),
        manifests=ManifestSummaries(env.jobs_table_name),
        gate=SubmitGate(
            breaker=GmiSubmitBreaker(env.jobs_table_name),
            pace=SubmitPace(env.jobs_table_name),
            rate_per_minute=env.submit_rate_per_minute,
            patience_seconds=env.gmi_outage_patience_seconds,
        ),
    )


@cache
def summaries() -> ManifestSummaries:
    return ManifestSummaries(service().env.jobs_table_name)


def splitter() -> ManifestSplitter:
    env = service().env
    queue = SubmitQueue(env.submit_queue_url)
    return ManifestSplitter(
        service().images, queue, summaries(), service().publisher, env.input_prefix, env.manifest_prefix
    )


def record_handler(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = []
    for command in commands_from_body(str(record["body"]), service().env.scope):
        if isinstance(command, Ignore):
            logger.info("ignored", extra={"reason": command.reason, "key": command.key})
            continue
        if isinstance(command, Split):
            split = splitter().split(command.chunk)
            logger.info("manifest split", extra={"manifest": command.chunk.manifest.key, **split.__dict__})
            continue
        if isinstance(command, Upload):
            logger.set_correlation_id(job_id_for(command.source))
            result = service().submit_source(command.source)
        elif isinstance(command, Line):
            result = submit_line(service(), summaries(), command.line)
        elif isinstance(command, Reconcile):
            logger.set_correlation_id(command.job_id)
            result = service().reconcile_job(command.job_id, now=command.now)
        else:
            logger.set_correlation_id(command.job_id)
            result = service().resume_job(command.job_id)
        logger.info("handled", extra={"outcome": result.outcome, "status": result.status})
        results.append({"job_id": result.job_id, "outcome": result.outcome, "status": result.status})
    return results


service()  # validate the environment at cold start, not on the first record
init_phase.done()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service().time_left_ms = context.get_remaining_time_in_millis
    return partial_batch_response(event, record_handler, logger)
