"""Real sample videos and pictures for the previews tests and benchmark: encoded with PyAV, a blank lead-in then a
detailed, moving picture (tests/support/videos.py re-exports them)."""

from __future__ import annotations

import io
from fractions import Fraction

import av
from PIL import Image, ImageDraw


def detailed_image(width: int, height: int, shift: int = 0) -> Image.Image:
    """Stripes and a moving square: plenty of luma variance, different from frame to frame."""
    image = Image.new("RGB", (width, height), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 16):
        draw.rectangle((x, 0, x + 7, height), fill=(230, 200, 60))
    side = max(8, height // 3)
    left = (shift * 4) % max(1, width - side)
    draw.rectangle((left, height // 3, left + side, height // 3 + side), fill=(250, 250, 250))
    return image


def make_mp4(
    seconds: float = 3.0,
    fps: int = 10,
    size: tuple[int, int] = (160, 90),
    blank_seconds: float = 0.0,
    starts_at: float = 0.0,
) -> bytes:
    """An H.264 (or MPEG-4) MP4: `blank_seconds` of black, then the detailed picture, moving; its first frame's
    timestamp is `starts_at` (streams cut from a longer recording do not start at 0)."""
    width, height = size
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        black = Image.new("RGB", size, (0, 0, 0))
        for index in range(round(seconds * fps)):
            picture = black if index < blank_seconds * fps else detailed_image(width, height, index)
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = index + round(starts_at * fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def detailed_png(width: int = 320, height: int = 180) -> bytes:
    """A picture with detail in it (stripes and a square): its video's frames are anything but blank, and the
    simulator's zoom over it moves (a flat picture would make a still video, and a still preview)."""
    image = Image.new("RGB", (width, height), (30, 60, 140))
    for x in range(0, width, 20):
        image.paste((240, 200, 40), (x, 0, x + 10, height))
    image.paste((250, 250, 250), (width // 3, height // 3, width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
