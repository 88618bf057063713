"""Watch handler: SQS batch of watch messages (delayed looks at jobs whose Watch state waits) -> watch service."""

from __future__ import annotations

from i2v.handlers import init_phase  # first: the INIT phase runs without the garbage collector

# isort: split
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v.domain.workflow import WatchMessage
from i2v.handlers.observability import logger, metrics, tracer
from i2v.handlers.sqs_batch import partial_batch_response
from i2v.handlers.wiring import watch_service as service


def record_handler(record: Mapping[str, Any], time_left_ms: Callable[[], int]) -> None:
    message = WatchMessage.model_validate_json(str(record["body"]))
    logger.set_correlation_id(message.state.job_id)
    sent_at = int(record["attributes"]["SentTimestamp"]) / 1000
    # A failing AWS call fails the record: SQS delivers it again after the visibility timeout (the copy may redo
    # its claimed look once this invocation's lease is over; a record that never moves backwards, a token
    # answered once).
    verdict = service().handle(message, sent_at, str(record["messageId"]), time_left_ms)
    logger.info("watched", extra={"verdict": verdict, "look": message.look})


service()  # validate the environment at cold start, not on the first record
init_phase.done()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Each record checks the time left before its GET: a batch never outlives the function.
    return partial_batch_response(
        event, partial(record_handler, time_left_ms=context.get_remaining_time_in_millis), logger
    )
