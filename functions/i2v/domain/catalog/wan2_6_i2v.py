"""wan2.6-i2v: image in `img_url`, duration an integer enum 5/10/15, resolution "720P"/"1080P" (capital P)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel

SEED_MAX = 2_147_483_647


class Wan26I2v(CatalogModel):
    MODEL_ID: ClassVar[str] = "wan2.6-i2v"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/wan2-6-i2v"
    IMAGE_FIELD: ClassVar[str] = "img_url"
    AUDIO_FIELD: ClassVar[str | None] = "audio"
    RESOLUTION_FIELD: ClassVar[str | None] = "resolution"

    prompt: str = Field(default="", max_length=1500)
    audio_url: str | None = None
    negative_prompt: str = Field(default="", max_length=500)
    resolution: Literal["720P", "1080P"] = "1080P"
    duration: Literal[5, 10, 15] = 5
    prompt_extend: bool = True
    shot_type: Literal["single", "multi"] = "single"
    audio: bool = True
    watermark: bool = False
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)


MODEL = Wan26I2v
