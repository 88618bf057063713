"""What the storage ports exchange: an object's HEAD, and anything readable a video is streamed from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str | None = None


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...
