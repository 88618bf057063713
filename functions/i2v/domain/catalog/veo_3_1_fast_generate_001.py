"""veo-3.1-fast-generate-001: image in `image`, end frame `lastFrame`, camelCase fields, integer durationSeconds."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from i2v.domain.catalog.base import CatalogModel

SEED_MAX = 4_294_967_295


class Veo31FastGenerate001(CatalogModel):
    MODEL_ID: ClassVar[str] = "veo-3.1-fast-generate-001"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/veo-3-1-fast-generate-001"
    IMAGE_FIELD: ClassVar[str] = "image"
    END_FRAME_FIELD: ClassVar[str | None] = "lastFrame"
    AUDIO_FIELD: ClassVar[str | None] = "generateAudio"
    DURATION_FIELD: ClassVar[str] = "durationSeconds"
    RESOLUTION_FIELD: ClassVar[str | None] = "resolution"
    ASPECT_FIELD: ClassVar[str | None] = "aspectRatio"
    CHOICES: ClassVar[tuple[str, ...]] = (
        "durationSeconds is an integer here (Veo3/Veo3-Fast use strings): the 3.1 table and example say integer",
        'resolution "720p"/"1080p"/"4k" from the overview (the row is cut); unset = GMI\'s default',
        "seed range 0-4294967295 as on the Veo3-Fast page (this page's row is cut)",
    )

    prompt: str = Field(min_length=1, max_length=2000)
    durationSeconds: Literal[4, 6, 8] = 6
    aspectRatio: Literal["16:9", "9:16"] = "16:9"
    generateAudio: bool = True
    negativePrompt: str | None = Field(default=None, max_length=500)
    personGeneration: Literal["allow_all", "allow_adult", "disallow"] = "allow_all"
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)
    resolution: Literal["720p", "1080p", "4k"] | None = None


MODEL = Veo31FastGenerate001
