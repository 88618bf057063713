"""Kling-Image2Video-V2-Master: image in `image` (URL or Base64), duration "5"/"10" as strings."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel, ImageForm


class KlingImage2VideoV2Master(CatalogModel):
    MODEL_ID: ClassVar[str] = "Kling-Image2Video-V2-Master"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/kling-image2video-v2-master"
    IMAGE_FIELD: ClassVar[str] = "image"
    IMAGE_FORM: ClassVar[ImageForm] = ImageForm.URL_OR_BASE64
    CHOICES: ClassVar[tuple[str, ...]] = (
        "cfg_scale, not cfg.scale: the example and every sibling use cfg_scale",
        "image form URL or Base64: the overview says both, the table only URL (we send URLs either way)",
    )

    prompt: str = Field(default="", max_length=2500)
    duration: Literal["5", "10"] = "5"
    negative_prompt: str = Field(default="", max_length=2500)
    cfg_scale: float = Field(default=0.5, ge=0, le=1)


MODEL = KlingImage2VideoV2Master
