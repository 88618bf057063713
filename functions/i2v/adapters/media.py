"""Decode the first seconds of a video (PyAV over any seekable file object) and encode its previews (Pillow).

PyAV, because its abi3 wheels bundle FFmpeg for manylinux aarch64 (no layer, no binary to ship: about 34 MB
zipped, 94 MB unpacked) and read through a Python file object, so a stored video is decoded from ranged S3
reads as far as the frames it needs, never downloaded whole.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
from PIL import Image, ImageStat

from i2v.domain.previews import (
    FIT_LADDER,
    MAX_PREVIEW_BYTES,
    POSTER_MAX_WIDTH,
    POSTER_QUALITY,
    POSTER_WINDOW_SECONDS,
    PREVIEW_MAX_FPS,
    PREVIEW_SECONDS,
    PREVIEW_WIDTH,
    FrameStats,
    every_nth,
    pick_poster,
    scaled,
)
from i2v.domain.rendering import Encoded, RenderedPreviews, UndecodableVideoError

_STATS_WIDTH = 64  # luma statistics of a thumbnail: enough to tell a blank frame, cheap for 4K ones


@dataclass
class _Sample:
    seconds: float
    image: Image.Image  # at most POSTER_MAX_WIDTH wide


class _Guarded:
    """The file object as PyAV sees it: PyAV turns an exception of `read` into an FFmpeg error, so the first
    one is kept here and re-raised as itself (a failed S3 read is not an undecodable video)."""

    def __init__(self, video: Any) -> None:
        self.video = video
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self.video.read(size)
        except Exception as error:
            self.error = self.error or error
            raise
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            position: int = self.video.seek(offset, whence)
        except Exception as error:
            self.error = self.error or error
            raise
        return position

    def tell(self) -> int:
        position: int = self.video.tell()
        return position

    def seekable(self) -> bool:
        return True

    def undecodable(self, message: str) -> Exception:
        return self.error if isinstance(self.error, Exception) else UndecodableVideoError(message)


def _samples(video: Any) -> Iterator[_Sample]:
    """Frames of the first seconds, about PREVIEW_MAX_FPS of them a second; decoding stops after the last."""
    horizon = max(POSTER_WINDOW_SECONDS, PREVIEW_SECONDS)
    guarded = _Guarded(video)
    try:
        container = av.open(guarded, mode="r")
    except (av.FFmpegError, ValueError, OSError) as error:
        raise guarded.undecodable(f"not a video container FFmpeg can open ({type(error).__name__})") from None
    with container:
        if not container.streams.video:
            raise UndecodableVideoError("the container has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_at, start = 0.0, None
        try:
            for index, frame in enumerate(container.decode(stream)):
                moment = frame.time if frame.time is not None else index / float(stream.average_rate or 25)
                start = moment if start is None else start
                seconds = moment - start  # from the first frame: a stream may not start at 0
                if seconds > horizon:
                    return
                if seconds + 1e-6 < next_at:
                    continue
                while next_at <= seconds + 1e-6:  # on a fixed grid, so frame times never drift
                    next_at += 1.0 / PREVIEW_MAX_FPS
                width, height = scaled(frame.width, frame.height, POSTER_MAX_WIDTH)
                yield _Sample(seconds, frame.to_image(width=width, height=height))  # type: ignore[no-untyped-call]
        except av.FFmpegError as error:
            raise guarded.undecodable(f"FFmpeg could not decode the video ({type(error).__name__})") from None


def _stats(sample: _Sample) -> FrameStats:
    luma = sample.image.convert("L")
    luma.thumbnail((_STATS_WIDTH, _STATS_WIDTH))
    found = ImageStat.Stat(luma)
    return FrameStats(sample.seconds, float(found.mean[0]), float(found.stddev[0]))


def _jpeg(image: Image.Image) -> Encoded:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=POSTER_QUALITY, optimize=True)
    return Encoded(out.getvalue(), image.width, image.height)


def _webp(frames: list[Image.Image], fps: float, quality: int) -> bytes:
    out = io.BytesIO()
    options: dict[str, Any] = {"save_all": True, "append_images": frames[1:], "loop": 0, "method": 4}
    frames[0].save(out, "WEBP", duration=round(1000 / fps), quality=quality, **options)
    return out.getvalue()


def _animation(clip: list[_Sample]) -> tuple[Encoded, int, float]:
    """The clip (frames PREVIEW_WIDTH wide) as an animated WebP, shrunk down FIT_LADDER until it fits."""
    span = clip[-1].seconds - clip[0].seconds
    source_fps = (len(clip) - 1) / span if span > 0 else float(PREVIEW_MAX_FPS)
    attempt = b""
    for width, fps, quality in FIT_LADDER:
        picked = [clip[i] for i in every_nth(len(clip), source_fps, fps)]
        size = scaled(clip[0].image.width, clip[0].image.height, width)
        frames = [s.image if s.image.size == size else s.image.resize(size, Image.Resampling.BILINEAR) for s in picked]
        real_fps = min(float(fps), source_fps)
        attempt = _webp(frames, real_fps, quality)
        if len(attempt) <= MAX_PREVIEW_BYTES:
            # libwebp merges identical neighbours (a still video gives one frame): count what the file holds.
            with Image.open(io.BytesIO(attempt)) as written:
                held = int(getattr(written, "n_frames", 1))
            return Encoded(attempt, *size), held, real_fps
    raise UndecodableVideoError(f"even the smallest animated preview is {len(attempt)} bytes")


def render_previews(video: Any) -> RenderedPreviews:
    """Poster (JPEG) and animated preview (WebP) of a video (any seekable binary file object).

    Raises UndecodableVideoError for anything that yields no frame; errors of the file object itself (e.g. a
    failed S3 read) propagate unchanged. Memory: one full-size candidate poster and the clip's small frames,
    whatever the video's size."""
    clip: list[_Sample] = []
    stats: list[FrameStats] = []
    poster: _Sample | None = None
    for sample in _samples(video):
        if sample.seconds > PREVIEW_SECONDS and clip and stats and not stats[pick_poster(stats)].blank:
            break  # both found: decode no further
        if sample.seconds <= POSTER_WINDOW_SECONDS:
            stats.append(_stats(sample))
            # pick_poster's choice among the frames seen so far: only the newest can become it.
            if pick_poster(stats) == len(stats) - 1:
                poster = sample
        if sample.seconds <= PREVIEW_SECONDS or not clip:
            size = scaled(sample.image.width, sample.image.height, PREVIEW_WIDTH)
            clip.append(_Sample(sample.seconds, sample.image.resize(size, Image.Resampling.BILINEAR)))
    poster = poster or (clip[0] if clip else None)  # a stream whose first frame comes after the window
    if poster is None or not clip:
        raise UndecodableVideoError("the video stream has no decodable frame")
    animated, frame_count, fps = _animation(clip)
    clip_seconds = clip[-1].seconds - clip[0].seconds + 1.0 / fps
    return RenderedPreviews(_jpeg(poster.image), poster.seconds, animated, frame_count, fps, clip_seconds)


__all__ = ["render_previews"]
