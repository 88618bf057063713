"""happyhorse1.0-i2v: image in `first_frame`, end frame `last_frame`, duration an integer 2-15."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel


class Happyhorse10I2v(CatalogModel):
    MODEL_ID: ClassVar[str] = "happyhorse1.0-i2v"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/happyhorse-1-0-i2v"
    IMAGE_FIELD: ClassVar[str] = "first_frame"
    END_FRAME_FIELD: ClassVar[str | None] = "last_frame"
    RESOLUTION_FIELD: ClassVar[str | None] = "resolution"
    CHOICES: ClassVar[tuple[str, ...]] = (
        "the table gives no defaults: duration 5 and resolution 720P are ours (sent explicitly)",
        "prompt_extend and watermark appear only in the example: accepted as booleans, unset by default",
    )

    prompt: str = ""
    negative_prompt: str | None = None
    resolution: Literal["720P", "1080P"] = "720P"
    duration: int = Field(default=5, ge=2, le=15)
    seed: int | None = Field(default=None, ge=0)
    prompt_extend: bool | None = None
    watermark: bool | None = None


MODEL = Happyhorse10I2v
