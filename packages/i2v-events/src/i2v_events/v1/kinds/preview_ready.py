"""The Preview Ready event (`Video Preview Ready`, kind `preview_ready`).

The kind's whole subscriber contract: its detail model, its whole event (Powertools' `EventBridgeModel`, built
when first read), its webhook message, one sample event and the text of its row in docs/subscribers.md. The
registry, `i2v_events.v1.kinds`, lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from i2v_events.v1.fields import Detail, JobDetail, Kind, Webhook

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

__all__ = [
    "AnimatedPreviewRef",
    "PosterFrameRef",
    "PreviewImageRef",
    "PreviewReadyDetail",
    "PreviewReadyWebhook",
    "PreviewsRef",
    "VideoPreviewReady",
    "VideoRef",
]


class PreviewImageRef(Detail):
    """An image made from the video's own frames, stored beside it."""

    bucket: str
    key: str
    size: int = Field(ge=1)
    content_type: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class PosterFrameRef(PreviewImageRef):
    """The poster (JPEG): the first frame that is not blank, taken `at_seconds` into the video."""

    at_seconds: float = Field(ge=0)


class AnimatedPreviewRef(PreviewImageRef):
    """The animated preview (WebP) of the video's first seconds, at most 500 KB."""

    frame_count: int = Field(ge=1)
    fps: float = Field(ge=0)
    duration_seconds: float = Field(ge=0)


class PreviewsRef(Detail):
    poster: PosterFrameRef
    animated: AnimatedPreviewRef


class VideoRef(Detail):
    bucket: str
    key: str


class PreviewReadyDetail(JobDetail):
    """Added in v1 (a new kind): the poster and animated preview made from a stored video. GMI's own
    thumbnail, when it sent one, stays the Succeeded event's `poster`."""

    request_id: str | None = None
    status: Literal["succeeded"]
    output: VideoRef
    previews: PreviewsRef


class PreviewReadyWebhook(Webhook):
    type: Literal["video.preview_ready"]
    data: PreviewReadyDetail


SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "44444444-4444-4444-8444-444444444444",
    "detail-type": "Video Preview Ready",
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
        "occurred_at": "2026-12-07T10:15:49.802Z",
        "request_id": "req-7f3a",
        "output": {"bucket": "my-output-bucket", "key": "videos/cat-6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e.mp4"},
        "previews": {
            "poster": {
                "bucket": "my-output-bucket",
                "size": 38211,
                "content_type": "image/jpeg",
                "width": 320,
                "height": 180,
                "key": "videos/cat-6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e.frame.jpg",
                "at_seconds": 0.4,
            },
            "animated": {
                "bucket": "my-output-bucket",
                "size": 281644,
                "content_type": "image/webp",
                "width": 320,
                "height": 180,
                "key": "videos/cat-6f1c2a0d9e8b7c6a5f4e3d2c1b0a9f8e.preview.webp",
                "frame_count": 40,
                "fps": 10,
                "duration_seconds": 4.0,
            },
        },
    },
}

KIND = Kind(
    module=__name__,
    detail_type="Video Preview Ready",
    when=(
        "a poster (JPEG) and an animated preview (WebP, ≤ 500 KB) made from the video's frames are beside it; "
        "after its Succeeded event"
    ),
    detail=PreviewReadyDetail,
    webhook=PreviewReadyWebhook,
    event_name="VideoPreviewReady",
    sample=SAMPLE,
)

if TYPE_CHECKING:

    class VideoPreviewReady(EventBridgeModel):
        """At run time `KIND.module_getattr()` builds this model when it is first read (a test compares them)."""

        detail_type: Literal["Video Preview Ready"] = Field(alias="detail-type")
        detail: PreviewReadyDetail

else:
    __getattr__ = KIND.module_getattr()
