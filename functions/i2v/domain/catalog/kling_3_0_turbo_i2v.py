"""kling-3.0-turbo-i2v: image in `first_frame`, `resolution` 720p/1080p, duration "3".."15" as strings."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel, ImageForm


class Kling30TurboI2v(CatalogModel):
    MODEL_ID: ClassVar[str] = "kling-3.0-turbo-i2v"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/kling-3-0-turbo-i2v"
    IMAGE_FIELD: ClassVar[str] = "first_frame"
    IMAGE_FORM: ClassVar[ImageForm] = ImageForm.URL_OR_BASE64
    RESOLUTION_FIELD: ClassVar[str | None] = "resolution"
    CHOICES: ClassVar[tuple[str, ...]] = ('duration is a string enum like kling-v3 (the page\'s default is "5")',)

    prompt: str = Field(default="", max_length=2500)
    resolution: Literal["720p", "1080p"] = "720p"
    duration: Literal["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"] = "5"


MODEL = Kling30TurboI2v
