"""MP4 rendering (a slow Ken Burns zoom over the source image) and synthetic large bodies.

Videos have the model's aspect ratio (or the source image's, for models whose output follows the image) and
its full duration, but are scaled down to about 320x180 pixels at 10 fps so that rendering stays fast.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from fractions import Fraction

import av
from PIL import Image

# Reduced-size frames per aspect ratio; all even so yuv420p encoders accept them.
FRAME_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (320, 180),
    "9:16": (180, 320),
    "1:1": (240, 240),
    "4:3": (256, 192),
    "3:4": (192, 256),
}
# Any other ratio (and "follow the image") gets about the same number of pixels.
_PIXEL_BUDGET = 320 * 180
DEFAULT_FPS = 10
# The zoom ends at this fraction of the cover crop: slow enough to look like a camera push-in.
_END_ZOOM = 0.8


class InvalidImageError(ValueError):
    """The fetched bytes are not an image Pillow can decode."""


def _pick_codec() -> str:
    # PyAV wheels bundle FFmpeg with libx264; fall back to mpeg4 for builds without it.
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


VIDEO_CODEC = _pick_codec()


def _cover(image: Image.Image, width: int, height: int) -> Image.Image:
    """Centre-crop to the target aspect ratio, then downscale to 2x target so per-frame work is small."""
    src_w, src_h = image.size
    target = width / height
    if src_w / src_h > target:
        crop_w, crop_h = round(src_h * target), src_h
    else:
        crop_w, crop_h = src_w, round(src_w / target)
    left, top = (src_w - crop_w) // 2, (src_h - crop_h) // 2
    cropped = image.crop((left, top, left + crop_w, top + crop_h))
    return cropped.resize((width * 2, height * 2), Image.Resampling.BILINEAR)


def frame_size(aspect_ratio: str | None, image: Image.Image) -> tuple[int, int]:
    """Reduced frame size for "W:H", or for the image's own shape when the ratio is None."""
    if aspect_ratio in FRAME_SIZES:
        return FRAME_SIZES[aspect_ratio]
    if aspect_ratio:
        across, down = (int(part) for part in aspect_ratio.split(":"))
        ratio = across / down
    else:
        ratio = image.size[0] / image.size[1]
    ratio = min(max(ratio, 0.25), 4.0)
    width = math.sqrt(_PIXEL_BUDGET * ratio)
    return max(2, round(width / 2) * 2), max(2, round(width / ratio / 2) * 2)


def decode_image(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return img.convert("RGB")
    except Exception as exc:  # Pillow raises many types for junk input
        raise InvalidImageError(f"image_url did not return a decodable image ({type(exc).__name__})") from exc


def render_mp4(
    image_bytes: bytes,
    aspect_ratio: str | None,
    duration_s: int,
    fps: int = DEFAULT_FPS,
    end_image_bytes: bytes | None = None,
) -> bytes:
    """Encode `duration_s` seconds of a centred zoom over the image (cross-fading to the end frame if one is
    given), at the reduced size of the ratio (None: the image's own ratio)."""
    image = decode_image(image_bytes)
    width, height = frame_size(aspect_ratio, image)
    base = _cover(image, width, height)
    end = _cover(decode_image(end_image_bytes), width, height) if end_image_bytes else None
    bw, bh = base.size
    frames = max(1, duration_s * fps)
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream(VIDEO_CODEC, rate=fps)
        if not isinstance(stream, av.VideoStream):
            raise TypeError(f"{VIDEO_CODEC} did not give a video stream")
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        if VIDEO_CODEC == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "28"}
        for i in range(frames):
            progress = i / max(1, frames - 1)
            zoom = 1.0 - (1.0 - _END_ZOOM) * progress
            cw, ch = bw * zoom, bh * zoom
            left, top = (bw - cw) / 2, (bh - ch) / 2
            source = Image.blend(base, end, progress) if end is not None else base
            frame_img = source.resize((width, height), Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
            frame = av.VideoFrame.from_image(frame_img)  # type: ignore[no-untyped-call]
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


class RenderCache:
    """Small LRU so benchmarks that reuse one image do not pay for encoding on every job."""

    def __init__(self, capacity: int = 16) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[str, str, str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def render(
        self,
        image_bytes: bytes,
        aspect_ratio: str | None,
        duration_s: int,
        fps: int = DEFAULT_FPS,
        end_image_bytes: bytes | None = None,
    ) -> bytes:
        end_digest = hashlib.sha256(end_image_bytes).hexdigest() if end_image_bytes else ""
        key = (hashlib.sha256(image_bytes).hexdigest(), end_digest, aspect_ratio or "image", duration_s, fps)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        video = render_mp4(image_bytes, aspect_ratio, duration_s, fps, end_image_bytes)
        with self._lock:
            self._items[key] = video
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return video


# Shared by all simulators in a process: tests and benchmarks reuse a handful of images.
SHARED_RENDER_CACHE = RenderCache()


# --- synthetic large bodies ------------------------------------------------------------------

_FILLER = bytes(1 << 20)


def synthetic_header(size: int) -> bytes:
    """An `ftyp` box and an `mdat` header spanning the rest, so the body sniffs as MP4."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp41")
    rest = size - len(ftyp)
    if rest < 16:
        return ftyp[:size]
    # Boxes of 4 GiB or more use the 64-bit largesize form.
    mdat = struct.pack(">I4s", rest, b"mdat") if rest < 2**32 else struct.pack(">I4sQ", 1, b"mdat", rest)
    return ftyp + mdat


def synthetic_chunks(size: int, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes [start, end) of a synthetic body of `size` bytes, generated lazily in 1 MiB chunks."""
    stop = size if end is None else min(end, size)
    header = synthetic_header(size)
    pos = start
    if pos < len(header):
        piece = header[pos:stop]
        pos += len(piece)
        if piece:
            yield piece
    while pos < stop:
        n = min(len(_FILLER), stop - pos)
        yield _FILLER[:n] if n < len(_FILLER) else _FILLER
        pos += n
