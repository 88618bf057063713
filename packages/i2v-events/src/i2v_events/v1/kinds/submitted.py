"""The Submitted event (`Video Generation Submitted`, kind `submitted`).

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
    Settings,
    Webhook,
    omittable,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

__all__ = ["SubmittedDetail", "SubmittedWebhook", "VideoSubmitted"]


class SubmittedDetail(JobDetail):
    """GMI accepted the job (`request_id` is GMI's id for it)."""

    request_id: str = Field(min_length=1)
    status: Literal["submitted"]
    settings: Settings
    estimated_cost_usd: float | None = omittable(ge=0, description=ESTIMATE_TEXT)
    price_source: OpenPriceSource | None = omittable(description=PRICE_SOURCE_TEXT)


class SubmittedWebhook(Webhook):
    type: Literal["video.submitted"]
    data: SubmittedDetail


SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "11111111-1111-4111-8111-111111111111",
    "detail-type": "Video Generation Submitted",
    "source": "i2v.pipeline",
    "account": "123456789012",
    "time": "2026-12-07T10:15:42Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "schema_version": "1",
        "job_id": "6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e",
        "attempt": 1,
        "status": "submitted",
        "source": {
            "bucket": "my-input-bucket",
            "key": "incoming/cat.png",
            "version_id": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        },
        "model": "kling-3.0-turbo-i2v",
        "occurred_at": "2026-12-07T10:15:42.120Z",
        "request_id": "req-7f3a",
        "settings": {"prompt": "the cat turns its head and blinks", "duration": "5", "resolution": "720p"},
        "estimated_cost_usd": 0.56,
        "price_source": "documented",
    },
}

KIND = Kind(
    module=__name__,
    detail_type="Video Generation Submitted",
    when="GMI accepted the job",
    detail=SubmittedDetail,
    webhook=SubmittedWebhook,
    event_name="VideoSubmitted",
    sample=SAMPLE,
)

if TYPE_CHECKING:

    class VideoSubmitted(EventBridgeModel):
        """At run time `KIND.module_getattr()` builds this model when it is first read (a test compares them)."""

        detail_type: Literal["Video Generation Submitted"] = Field(alias="detail-type")
        detail: SubmittedDetail

else:
    __getattr__ = KIND.module_getattr()
