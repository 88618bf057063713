"""kling-v3-image-to-video: image in `image`, end frame in `image_tail`, duration "3".."15" as strings, 720p."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel, ImageForm


class KlingV3ImageToVideo(CatalogModel):
    MODEL_ID: ClassVar[str] = "kling-v3-image-to-video"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/kling-v3-image-to-video"
    IMAGE_FIELD: ClassVar[str] = "image"
    IMAGE_FORM: ClassVar[ImageForm] = ImageForm.URL_OR_BASE64
    END_FRAME_FIELD: ClassVar[str | None] = "image_tail"
    AUDIO_FIELD: ClassVar[str | None] = "sound"
    FIXED_RESOLUTION: ClassVar[str | None] = "720p"
    CHOICES: ClassVar[tuple[str, ...]] = (
        'duration is a string enum "3".."15" (default written "5"; every whole second inferred allowed)',
        'sound default "off": the page states no default, and sound raises the price',
    )

    prompt: str = Field(min_length=1, max_length=2500)
    negative_prompt: str | None = None
    duration: Literal["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"] = "5"
    sound: Literal["on", "off"] = "off"


MODEL = KlingV3ImageToVideo
