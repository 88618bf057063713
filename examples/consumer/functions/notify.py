"""Runs for every video the pipeline finishes: the event arrives typed by the `i2v-events` package."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from i2v_events.v1 import VideoSucceeded

logger = Logger(service="i2v-consumer")


@event_parser(model=VideoSucceeded)
def handler(event: VideoSucceeded, context: LambdaContext) -> dict[str, Any]:
    detail, video = event.detail, event.detail.output
    # De-duplicate on (job_id, attempt, detail-type): EventBridge delivers at least once.
    logger.info("video ready", extra={"job_id": detail.job_id, "attempt": detail.attempt, "key": video.key})
    return {
        "job_id": detail.job_id,
        "video": f"s3://{video.bucket}/{video.key}",
        "poster": f"s3://{detail.poster.bucket}/{detail.poster.key}" if detail.poster else None,
        "seconds": video.duration_seconds,
        # What GMI charges for it, as priced before it was sent (None: no known price, or an older job).
        "cost_usd": detail.estimated_cost_usd,
    }
