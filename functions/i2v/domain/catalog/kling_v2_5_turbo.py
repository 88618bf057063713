"""kling-v2-5-turbo: image in `image` (URL), duration "5"/"10" as strings, no audio."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel


class KlingV25Turbo(CatalogModel):
    MODEL_ID: ClassVar[str] = "kling-v2-5-turbo"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/kling-v2-5-turbo"
    IMAGE_FIELD: ClassVar[str] = "image"

    prompt: str = Field(min_length=1, max_length=2500)
    duration: Literal["5", "10"] = "5"
    negative_prompt: str = Field(default="", max_length=2500)
    mode: Literal["pro"] = "pro"
    cfg_scale: float = Field(default=0.5, ge=0, le=1)


MODEL = KlingV25Turbo
