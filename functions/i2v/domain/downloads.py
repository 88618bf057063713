"""What the video-source port exchanges: a download from GMI's video (or thumbnail) URL, and how it fails.

The adapter (i2v.adapters.video_source) vets every hop against SSRF and reads the body; the complete service
decides what each failure means for the job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self

# The longest wait for the video host's next byte (a first byte may be given less: the invocation's time left).
READ_TIMEOUT_SECONDS = 30.0
VIDEO_CONTENT_TYPES = ("video/", "application/octet-stream", "binary/octet-stream", "application/mp4")
IMAGE_CONTENT_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")


class VideoUrlRejectedError(Exception):
    """The URL (or a redirect) leaves the allowed hosts, is not https, or points at a private address."""


class VideoGoneError(Exception):
    """403/404/410 from the video host: usually an expired signed URL."""


class DownloadInterruptedError(Exception):
    """The body ended early or the connection broke; nothing was stored, the copy can be retried."""


class DownloadStoppedError(DownloadInterruptedError):
    """Stopped at the deadline the caller gave (its function's own): nothing was stored, retry later."""


class VideoTooLargeError(Exception):
    """More bytes than the limit: downloading it again cannot help."""


class CheckedBody(Protocol):
    """The body as a file that fails loudly: short of its Content-Length (`interrupted`), past `limit` bytes
    (`too_large`), or past the caller's stop; `received` counts the bytes read."""

    received: int
    interrupted: DownloadInterruptedError | None
    too_large: VideoTooLargeError | None

    def read(self, size: int = -1) -> bytes: ...


class Download(Protocol):
    """An opened download (status and headers checked, body unread); close it, or use it as a context manager."""

    content_length: int | None

    def body(self, limit: int, seconds_left: Callable[[], float] | None = None) -> CheckedBody: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...
