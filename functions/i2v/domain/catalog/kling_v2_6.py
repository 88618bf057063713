"""kling-v2-6: image in `image` (URL), duration "5"/"10" as strings, `sound` switch."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel


class KlingV26(CatalogModel):
    MODEL_ID: ClassVar[str] = "kling-v2-6"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/kling-v2-6"
    IMAGE_FIELD: ClassVar[str] = "image"
    AUDIO_FIELD: ClassVar[str | None] = "sound"
    CHOICES: ClassVar[tuple[str, ...]] = (
        'sound takes "on"/"off" (the example and kling-v3 use them; the table says yes/no): change the Literal',
        "cfg_scale is a number (the example sends 0.5; the table types it string)",
    )

    prompt: str = Field(min_length=1, max_length=2500)
    sound: Literal["on", "off"] = "off"
    duration: Literal["5", "10"] = "5"
    mode: Literal["pro"] = "pro"
    cfg_scale: float = Field(default=0.5, ge=0, le=1)


MODEL = KlingV26
