"""The Failed event (`Video Generation Failed`, kind `failed`).

The kind's whole subscriber contract: its detail model, its whole event (Powertools' `EventBridgeModel`, built
when first read), its webhook message, one sample event and the text of its row in docs/subscribers.md. The
registry, `i2v_events.v1.kinds`, lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from i2v_events.v1.fields import FailureInfo, JobDetail, Kind, OpenFailedStatus, Webhook

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

__all__ = ["FailedDetail", "FailedWebhook", "VideoFailed"]


class FailedDetail(JobDetail):
    """The job ended without a video (rejected, failed, timed out), or waits for an operator (submit_ambiguous)."""

    request_id: str | None = None
    status: OpenFailedStatus
    failure: FailureInfo


class FailedWebhook(Webhook):
    type: Literal["video.failed"]
    data: FailedDetail


SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "33333333-3333-4333-8333-333333333333",
    "detail-type": "Video Generation Failed",
    "source": "i2v.pipeline",
    "account": "123456789012",
    "time": "2026-12-07T10:15:42Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "schema_version": "1",
        "job_id": "6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e",
        "attempt": 1,
        "status": "failed",
        "source": {
            "bucket": "my-input-bucket",
            "key": "incoming/cat.png",
            "version_id": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        },
        "model": "kling-3.0-turbo-i2v",
        "occurred_at": "2026-12-07T10:15:42.120Z",
        "request_id": None,
        "failure": {
            "category": "invalid_settings",
            "message": "model 'kling-3.0-turbo-i2v': resolution is not accepted (got '4k'); "
            'accepts "720p", "1080p"',
        },
    },
}

KIND = Kind(
    module=__name__,
    detail_type="Video Generation Failed",
    when="rejected, failed, timed out, or `submit_ambiguous` (waits for an operator)",
    detail=FailedDetail,
    webhook=FailedWebhook,
    event_name="VideoFailed",
    sample=SAMPLE,
)

if TYPE_CHECKING:

    class VideoFailed(EventBridgeModel):
        """At run time `KIND.module_getattr()` builds this model when it is first read (a test compares them)."""

        detail_type: Literal["Video Generation Failed"] = Field(alias="detail-type")
        detail: FailedDetail

else:
    __getattr__ = KIND.module_getattr()
