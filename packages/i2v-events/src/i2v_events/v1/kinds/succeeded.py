"""The Succeeded event (`Video Generation Succeeded`, kind `succeeded`).

The kind's whole subscriber contract: its detail model, its whole event (Powertools' `EventBridgeModel`, built
when first read), its webhook message, one sample event and the text of its row in docs/subscribers.md. The
registry, `i2v_events.v1.kinds`, lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from i2v_events.v1.fields import (
    ESTIMATE_TEXT,
    PRICE_SOURCE_TEXT,
    JobDetail,
    Kind,
    OpenPriceSource,
    OutputRef,
    PosterRef,
    Webhook,
    omittable,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

__all__ = ["SucceededDetail", "SucceededWebhook", "VideoSucceeded"]


class SucceededDetail(JobDetail):
    """The video is in the output bucket."""

    request_id: str
    status: Literal["succeeded"]
    output: OutputRef
    generation_seconds: float | None = Field(default=None, ge=0)
    poster: PosterRef | None = None
    estimated_cost_usd: float | None = omittable(ge=0, description=ESTIMATE_TEXT)
    price_source: OpenPriceSource | None = omittable(description=PRICE_SOURCE_TEXT)


class SucceededWebhook(Webhook):
    type: Literal["video.succeeded"]
    data: SucceededDetail


SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "22222222-2222-4222-8222-222222222222",
    "detail-type": "Video Generation Succeeded",
    "source": "i2v.pipeline",
    "account": "123456789012",
    "time": "2026-12-07T10:15:42Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "schema_version": "1",
        "job_id": "6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e",
        "attempt": 1,
        "status": "succeeded",
        "source": {
            "bucket": "my-input-bucket",
            "key": "incoming/cat.png",
            "version_id": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        },
        "model": "kling-3.0-turbo-i2v",
        "occurred_at": "2026-12-07T10:15:42.120Z",
        "request_id": "req-7f3a",
        "output": {
            "bucket": "my-output-bucket",
            "key": "videos/cat-6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e.mp4",
            "size": 4194304,
            "content_type": "video/mp4",
            "duration_seconds": 5.0,
            "width": 1280,
            "height": 720,
        },
        "generation_seconds": 74.2,
        "estimated_cost_usd": 0.56,
        "price_source": "documented",
    },
}

KIND = Kind(
    module=__name__,
    detail_type="Video Generation Succeeded",
    when="the video is in the output bucket",
    detail=SucceededDetail,
    webhook=SucceededWebhook,
    event_name="VideoSucceeded",
    sample=SAMPLE,
)

if TYPE_CHECKING:

    class VideoSucceeded(EventBridgeModel):
        """At run time `KIND.module_getattr()` builds this model when it is first read (a test compares them)."""

        detail_type: Literal["Video Generation Succeeded"] = Field(alias="detail-type")
        detail: SucceededDetail

else:
    __getattr__ = KIND.module_getattr()
