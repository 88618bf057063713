"""Previews made from the video itself: which frame is the poster, how big the animation is, where both go.

Pure decisions on numbers (luma statistics, sizes, byte counts); the decoding and encoding is
`i2v.adapters.media`'s. The job record keeps what was stored (`Previews`) or why nothing could be
(`PreviewFailure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

# Frames are looked at only in the first seconds: decoding stops there, whatever the video's length.
POSTER_WINDOW_SECONDS = 5.0
PREVIEW_SECONDS = 4.0
PREVIEW_WIDTH = 320
PREVIEW_MAX_FPS = 10
MAX_PREVIEW_BYTES = 500 * 1024
POSTER_MAX_WIDTH = 1280
POSTER_QUALITY = 85
# A frame is "blank" when its luma barely varies (a fade, a solid card) or it is nearly black or white.
MIN_LUMA_STDDEV = 12.0
MIN_LUMA_MEAN = 16.0
MAX_LUMA_MEAN = 240.0
# Tried in order until the animation fits MAX_PREVIEW_BYTES: (width, frames per second, WebP quality).
FIT_LADDER: tuple[tuple[int, int, int], ...] = (
    (PREVIEW_WIDTH, 10, 70),
    (PREVIEW_WIDTH, 8, 60),
    (PREVIEW_WIDTH, 6, 50),
    (PREVIEW_WIDTH, 5, 40),
    (240, 5, 40),
    (160, 4, 30),
)


@dataclass(frozen=True)
class FrameStats:
    """Luma statistics of one sampled frame."""

    seconds: float
    mean: float
    stddev: float

    @property
    def blank(self) -> bool:
        return self.stddev < MIN_LUMA_STDDEV or not MIN_LUMA_MEAN <= self.mean <= MAX_LUMA_MEAN


def pick_poster(frames: Sequence[FrameStats]) -> int:
    """The index of the frame a user would pick: the first one that is not blank, else the most detailed."""
    if not frames:
        raise ValueError("no frame to pick from")
    for index, frame in enumerate(frames):
        if not frame.blank:
            return index
    return max(range(len(frames)), key=lambda i: frames[i].stddev)


def scaled(width: int, height: int, target_width: int) -> tuple[int, int]:
    """`target_width` wide (never wider than the source), the height in proportion and even."""
    new_width = min(width, target_width)
    new_height = max(2, round(height * new_width / width / 2) * 2)
    return new_width, new_height


def every_nth(count: int, source_fps: float, target_fps: float) -> list[int]:
    """Indices of `count` frames sampled at `source_fps` that keep about `target_fps`."""
    if count <= 0:
        return []
    step = max(1.0, source_fps / target_fps)
    picked, position = [], 0.0
    while round(position) < count:
        picked.append(round(position))
        position += step
    return sorted(set(picked))


def preview_keys(video_key: str) -> tuple[str, str]:
    """(poster, animation) keys beside the video. GMI's own thumbnail is `<base>.poster.<ext>`: ours differ."""
    base = video_key.rsplit(".", 1)[0]
    return f"{base}.frame.jpg", f"{base}.preview.webp"


class PreviewImage(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    size: int = Field(ge=1)
    content_type: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class PosterFrame(PreviewImage):
    """The chosen frame as a JPEG; `at_seconds` is its time in the video."""

    at_seconds: float = Field(ge=0)


class AnimatedPreview(PreviewImage):
    """An animated WebP of the video's first seconds."""

    frame_count: int = Field(ge=1)
    fps: float = Field(gt=0)
    duration_seconds: float = Field(ge=0)


class Previews(BaseModel):
    model_config = ConfigDict(frozen=True)

    poster: PosterFrame
    animated: AnimatedPreview


class PreviewFailure(BaseModel):
    """Why no preview was made (`reason`: undecodable); the job itself stays succeeded."""

    model_config = ConfigDict(frozen=True)

    reason: str
    message: str
