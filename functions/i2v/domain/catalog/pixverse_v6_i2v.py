"""pixverse-v6-i2v: image in `image` (not `image_url`), duration an integer 1-15."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel


class PixverseV6(CatalogModel):
    MODEL_ID: ClassVar[str] = "pixverse-v6-i2v"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/pixverse-v6-i2v"
    IMAGE_FIELD: ClassVar[str] = "image"
    AUDIO_FIELD: ClassVar[str | None] = "generate_audio_switch"
    RESOLUTION_FIELD: ClassVar[str | None] = "quality"
    CHOICES: ClassVar[tuple[str, ...]] = (
        'quality values are inferred from the other PixVerse pages (only "1080p" is shown); unset = GMI\'s default',
        "only the table rows the page shows are accepted (prompt, image, duration, quality, generate_audio_switch)",
    )

    prompt: str = Field(min_length=1, max_length=5000)
    duration: int = Field(default=5, ge=1, le=15)
    quality: Literal["360p", "540p", "720p", "1080p"] | None = None
    generate_audio_switch: bool | None = None


MODEL = PixverseV6
