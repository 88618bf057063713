"""Recognise an image by its first bytes, whatever its name says."""

from __future__ import annotations

from enum import StrEnum

SNIFF_BYTES = 32


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"


CONTENT_TYPES = {ImageFormat.JPEG: "image/jpeg", ImageFormat.PNG: "image/png", ImageFormat.WEBP: "image/webp"}

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def detect_image_format(head: bytes) -> ImageFormat | None:
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def describe_unsupported(head: bytes) -> str:
    """A reason a user understands: what the bytes look like, when we can tell."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        kind = "GIF"
    elif head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        kind = "HEIC/AVIF"
    elif head.startswith(b"%PDF"):
        kind = "PDF"
    elif head.startswith((b"II*\x00", b"MM\x00*")):
        kind = "TIFF"
    elif head.startswith(b"BM"):
        kind = "BMP"
    else:
        kind = "not an image we recognise"
    return f"content is {kind}; GMI accepts JPEG, PNG or WebP"
