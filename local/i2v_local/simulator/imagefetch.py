"""Fetch `image_url` the way the real service does, so broken or expired presigned URLs fail the job."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

MAX_IMAGE_BYTES = 64 * 1024 * 1024


class ImageFetchError(Exception):
    """The job fails with this message. It never contains the URL (presigned URLs are secrets)."""


def fetch_image(
    url: str,
    *,
    timeout: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> bytes:
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.HTTPSHandler(context=ssl_context or ssl.create_default_context()),
    ]
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"User-Agent": "i2v-gmi-simulator/1"})  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise ImageFetchError(f"image_url could not be fetched (HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ImageFetchError(f"image_url could not be fetched (connection error: {type(reason).__name__})") from None
    if len(data) > max_bytes:
        raise ImageFetchError(f"image_url is larger than {max_bytes} bytes")
    if not data:
        raise ImageFetchError("image_url returned an empty body")
    return data
