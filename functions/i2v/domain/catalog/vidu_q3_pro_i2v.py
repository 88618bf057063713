"""vidu-q3-pro-i2v: image in `images` (one string despite the plural), duration an integer 1-16, 1080p."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel, ImageForm, ImageShape


class ViduQ3ProI2v(CatalogModel):
    MODEL_ID: ClassVar[str] = "vidu-q3-pro-i2v"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/vidu-q3-pro-i2v"
    IMAGE_FIELD: ClassVar[str] = "images"
    IMAGE_FORM: ClassVar[ImageForm] = ImageForm.URL_OR_BASE64
    # The q3 table and example give one string; vidu-q2-pro-r2v takes a list. Switch to ImageShape.LIST if GMI does.
    IMAGE_SHAPE: ClassVar[ImageShape] = ImageShape.STRING
    AUDIO_FIELD: ClassVar[str | None] = "audio"
    FIXED_RESOLUTION: ClassVar[str | None] = "1080p"
    CHOICES: ClassVar[tuple[str, ...]] = ("images is one string, as the table and example show (not a list)",)

    prompt: str = Field(min_length=1, max_length=2000)
    duration: int = Field(default=5, ge=1, le=16)
    audio: bool = True
    seed: int | None = None


MODEL = ViduQ3ProI2v
