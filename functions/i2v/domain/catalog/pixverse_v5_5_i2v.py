"""pixverse-v5.5-i2v: image in `image_url`, duration a string enum, `quality` picks the resolution."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from i2v.domain.catalog.base import CatalogModel

SEED_MAX = 2_147_483_647


class PixverseV55(CatalogModel):
    MODEL_ID: ClassVar[str] = "pixverse-v5.5-i2v"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/pixverse-v5-5-i2v"
    IMAGE_FIELD: ClassVar[str] = "image_url"
    AUDIO_FIELD: ClassVar[str | None] = "generate_audio_switch"
    RESOLUTION_FIELD: ClassVar[str | None] = "quality"
    ASPECT_FIELD: ClassVar[str | None] = "aspect_ratio"
    MARKED_REQUIRED: ClassVar[tuple[str, ...]] = ("duration", "aspect_ratio", "quality")
    RULES: ClassVar[tuple[str, ...]] = ('duration "10" is not available at quality "1080p"',)
    CHOICES: ClassVar[tuple[str, ...]] = (
        'duration is a string ("5"): the example sends a string, the table says only "enum"',
        "duration, aspect_ratio and quality are marked required yet have defaults: we always send them",
        "style keeps the values of the seed document; the page's table is cut before its row",
    )

    prompt: str = Field(min_length=1)
    negative_prompt: str = ""
    duration: Literal["5", "8", "10"] = "5"
    aspect_ratio: Literal["16:9", "9:16", "1:1", "4:3", "3:4"] = "16:9"
    quality: Literal["360p", "540p", "720p", "1080p"] = "540p"
    style: Literal["none", "anime", "3d_animation", "clay", "comic", "cyberpunk"] = "none"
    thinking_type: Literal["enabled", "disabled", "auto"] = "auto"
    generate_audio_switch: bool = False
    generate_multi_clip_switch: bool = False
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)

    @model_validator(mode="after")
    def _ten_seconds_not_at_1080p(self) -> Self:
        if self.duration == "10" and self.quality == "1080p":
            raise ValueError(
                'duration "10" is not available at quality "1080p"; at 1080p duration accepts "5", "8" '
                '(or lower quality to "360p", "540p", "720p")'
            )
        return self


MODEL = PixverseV55
