"""seedance-2-0-fast-260128: image in `first_frame`, end frame `last_frame`, `ratio` incl. "adaptive"."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel

SEED_MAX = 4_294_967_295


class Seedance20Fast(CatalogModel):
    MODEL_ID: ClassVar[str] = "seedance-2-0-fast-260128"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/seedance-2-0-fast-260128"
    IMAGE_FIELD: ClassVar[str] = "first_frame"
    END_FRAME_FIELD: ClassVar[str | None] = "last_frame"
    AUDIO_FIELD: ClassVar[str | None] = "generate_audio"
    RESOLUTION_FIELD: ClassVar[str | None] = "resolution"
    ASPECT_FIELD: ClassVar[str | None] = "ratio"
    CHOICES: ClassVar[tuple[str, ...]] = (
        "reference_* arrays are not accepted: mixing them with first/last frame is unverified (other providers: "
        "mutually exclusive)",
    )

    prompt: str = Field(min_length=1)
    duration: int = Field(default=5, ge=4, le=15)
    resolution: Literal["480p", "720p", "1080p"] = "720p"
    ratio: Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"] = "16:9"
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)
    watermark: bool = False
    generate_audio: bool = True
    web_search: bool = False


MODEL = Seedance20Fast
