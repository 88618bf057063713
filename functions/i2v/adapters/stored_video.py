"""A stored video read as a seekable file of ranged S3 GETs: the decoder reads only the bytes it needs."""

from __future__ import annotations

import io
from typing import Any

from i2v.adapters.aws import client

BLOCK_SIZE = 2 * 1024 * 1024


class RangedObjectReader(io.RawIOBase):
    """Read-only and seekable; each miss is one ranged GET of BLOCK_SIZE bytes and only the last block is kept,
    so memory stays at one block whatever the object's size."""

    def __init__(self, bucket: str, key: str, size: int, block_size: int = BLOCK_SIZE, s3: Any = None) -> None:
        super().__init__()
        self.bucket, self.key, self.size, self.block_size = bucket, key, size, block_size
        self._s3 = s3 or client("s3")
        self._position = 0
        self._block_start = 0
        self._block = b""
        self.requests = 0
        self.bytes_fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._position >= self.size or not len(view):
            return 0
        offset = self._position - self._block_start
        if not 0 <= offset < len(self._block):
            self._fetch(self._position)
            offset = 0
        count = min(len(view), len(self._block) - offset)
        view[:count] = self._block[offset : offset + count]
        self._position += count
        return count

    def _fetch(self, start: int) -> None:
        end = min(start + self.block_size, self.size) - 1
        response = self._s3.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={start}-{end}")
        with response["Body"] as body:
            self._block = body.read()
        self._block_start = start
        self.requests += 1
        self.bytes_fetched += len(self._block)


class StoredVideos:
    """The videos in the output bucket, opened for reading without downloading them."""

    def __init__(self, block_size: int = BLOCK_SIZE) -> None:
        self.block_size = block_size

    def open(self, bucket: str, key: str) -> RangedObjectReader:
        size = int(client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"])
        return RangedObjectReader(bucket, key, size, self.block_size)
