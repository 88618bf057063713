"""Minimax-Hailuo-2.3-Fast: image in `first_frame_image`, duration 6/10 (integers), 1080P only at 6 s."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from i2v.domain.catalog.base import CatalogModel


class MinimaxHailuo23Fast(CatalogModel):
    MODEL_ID: ClassVar[str] = "Minimax-Hailuo-2.3-Fast"
    DOCS_URL: ClassVar[str] = "https://docs.gmicloud.ai/model-quickstarts/video/minimax-hailuo-2-3-fast"
    IMAGE_FIELD: ClassVar[str] = "first_frame_image"
    RESOLUTION_FIELD: ClassVar[str | None] = "resolution"
    RULES: ClassVar[tuple[str, ...]] = ('resolution "1080P" only with duration 6',)
    CHOICES: ClassVar[tuple[str, ...]] = (
        "the parameter table is Minimax-Hailuo-2.3's (the Fast page is cut): applied to -Fast as the docs infer",
        "512P is kept (the 2.3 table allows it; we always send the first frame it needs)",
    )

    prompt: str = Field(min_length=1, max_length=2000)
    duration: Literal[6, 10] = 6
    resolution: Literal["512P", "768P", "1080P"] = "768P"
    prompt_optimizer: bool = True
    fast_pretreatment: bool = False

    @model_validator(mode="after")
    def _1080p_only_at_6_seconds(self) -> Self:
        if self.resolution == "1080P" and self.duration != 6:
            raise ValueError(
                'resolution "1080P" is only available with duration 6; at duration 10 resolution accepts "512P", "768P"'
            )
        return self


MODEL = MinimaxHailuo23Fast
