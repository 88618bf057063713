"""Submit handler: SQS batch of S3 notifications -> submit service, with per-record failures."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.domain.source import job_id_for
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.parsing import Ignore, Line, Reconcile, Split, Upload, commands_from_body
from i2v.handlers.sqs_batch import partial_batch_response
from i2v.handlers.wiring import manifest_splitter, manifest_summaries, submit_env
from i2v.handlers.wiring import submit_service as service
from i2v.services.manifest import submit_line


def record_handler(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = []
    for command in commands_from_body(str(record["body"]), submit_env().scope):
        if isinstance(command, Ignore):
            logger.info("ignored", extra={"reason": command.reason, "key": command.key})
            continue
        if isinstance(command, Split):
            split = manifest_splitter().split(command.chunk)
            logger.info("manifest split", extra={"manifest": command.chunk.manifest.key, **split.__dict__})
            continue
        if isinstance(command, Upload):
            logger.set_correlation_id(job_id_for(command.source))
            result = service().submit_source(command.source)
        elif isinstance(command, Line):
            result = submit_line(service(), manifest_summaries(), command.line)
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
