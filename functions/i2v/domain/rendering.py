"""What the preview renderer port gives back (i2v.adapters.media renders it; i2v.services.previews stores it)."""

from __future__ import annotations

from dataclasses import dataclass


class UndecodableVideoError(Exception):
    """The stored object holds no decodable video frames; the message says what FFmpeg found."""


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class RenderedPreviews:
    poster: Encoded
    poster_seconds: float
    animated: Encoded
    frame_count: int  # frames the WebP holds (identical neighbours merged)
    fps: float
    clip_seconds: float  # how much of the video it shows
