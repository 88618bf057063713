"""Is this stream a video, and (for MP4) how long and how large is it? Answered while the bytes stream by.

Hand-written because no library parses ISO-BMFF boxes incrementally from a stream we cannot seek or
read twice; the few boxes needed (ftyp, moov/mvhd, moov/trak/tkhd) have fixed layouts (ISO/IEC 14496-12).
Memory stays bounded: only the `moov` box is kept (up to MAX_MOOV_BYTES), `mdat` is counted and skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

# ISO-BMFF (MP4, MOV, 3GP...): a first box of type `ftyp`. Matroska/WebM: the EBML magic number.
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
HEAD_BYTES = 12
MAX_MOOV_BYTES = 16 * 1024 * 1024


class NotAVideoError(Exception):
    """The bytes are not a video container (e.g. an HTML error page served as video/mp4)."""


@dataclass(frozen=True)
class VideoFacts:
    container: str  # "mp4" (ISO-BMFF) or "webm" (EBML)
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None


def describe(head: bytes) -> str:
    """A short, safe description of the first bytes, for the failure message."""
    printable = "".join(chr(b) if 32 <= b < 127 else "." for b in head[:16])
    return f"starts with {printable!r}" if head else "is empty"


class VideoProbe:
    """Feed it every chunk in order; it raises NotAVideoError as soon as the head rules out a video."""

    def __init__(self, max_moov_bytes: int = MAX_MOOV_BYTES) -> None:
        self._max_moov = max_moov_bytes
        self._head = bytearray()
        self.container: str | None = None
        # MP4 walk over top-level boxes: a partial box header, or bytes left to skip or to collect.
        self._header = bytearray()
        self._skip = 0
        self._moov: bytearray | None = None
        self._moov_left = 0
        self._to_end = False
        self._facts: VideoFacts | None = None

    def feed(self, chunk: bytes) -> None:
        if self.container is None:
            self._head += chunk
            if len(self._head) < HEAD_BYTES:
                return
            # Decided on the first bytes; then they are walked like the rest.
            self._decide(bytes(self._head[:HEAD_BYTES]))
            chunk, self._head = bytes(self._head), self._head[:HEAD_BYTES]
        if self.container == "mp4" and self._facts is None and not self._to_end:
            self._walk(memoryview(chunk))

    def finish(self) -> VideoFacts:
        """At the end of the stream: the facts found, or NotAVideoError if the stream was too short to tell."""
        if self.container is None:
            self._decide(bytes(self._head))
        assert self.container is not None
        return self._facts or VideoFacts(self.container)

    def _decide(self, head: bytes) -> None:
        if len(head) >= HEAD_BYTES and head[4:8] == b"ftyp":  # a real ftyp box also names its brand
            self.container = "mp4"
        elif head.startswith(EBML_MAGIC):
            self.container = "webm"
        else:
            raise NotAVideoError(f"the video URL's body is not a video: it {describe(head)}")

    def _walk(self, data: memoryview) -> None:
        pos = 0
        while pos < len(data) and self._facts is None and not self._to_end:
            if self._moov is not None:
                take = min(self._moov_left, len(data) - pos)
                self._moov += data[pos : pos + take]
                self._moov_left -= take
                pos += take
                if self._moov_left == 0:
                    self._facts = _facts_from_moov(bytes(self._moov))
                    self._moov = None
            elif self._skip:
                step = min(self._skip, len(data) - pos)
                self._skip -= step
                pos += step
            else:
                pos = self._read_header(data, pos)

    def _read_header(self, data: memoryview, pos: int) -> int:
        need = 16 if len(self._header) >= 8 and self._header[:4] == b"\0\0\0\1" else 8
        take = min(need - len(self._header), len(data) - pos)
        self._header += data[pos : pos + take]
        pos += take
        if len(self._header) < need:
            return pos
        size, kind = struct.unpack(">I4s", self._header[:8])
        if size == 1 and need == 8:
            return pos  # a 64-bit size follows; read it next round
        header_len = need
        if size == 1:
            size = struct.unpack(">Q", self._header[8:16])[0]
        self._header.clear()
        if size == 0:
            self._to_end = True  # the box runs to the end of the file: nothing after it to find
            return pos
        body = max(0, size - header_len)
        if kind == b"moov" and body <= self._max_moov:
            self._moov, self._moov_left = bytearray(), body
            if body == 0:
                self._facts, self._moov = VideoFacts("mp4"), None
        else:
            self._skip = body
        return pos


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= len(data):
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            break
        found.append((kind, data[pos + header : pos + size]))
        pos += size
    return found


def _facts_from_moov(moov: bytes) -> VideoFacts:
    duration: float | None = None
    width = height = None
    for kind, body in _boxes(moov):
        if kind == b"mvhd" and len(body) >= 20:
            if body[0] == 1 and len(body) >= 32:
                timescale, length = struct.unpack(">IQ", body[20:32])
            else:
                timescale, length = struct.unpack(">II", body[12:20])
            duration = round(length / timescale, 3) if timescale and length else None
        elif kind == b"trak" and width is None:
            width, height = _track_size(body)
    return VideoFacts("mp4", duration, width, height)


def _track_size(trak: bytes) -> tuple[int | None, int | None]:
    """Width and height of a visual track (16.16 fixed point at the end of `tkhd`); None for audio."""
    for kind, body in _boxes(trak):
        if kind == b"tkhd" and len(body) >= 84:
            offset = 88 if body[0] == 1 else 76
            if len(body) >= offset + 8:
                raw_w, raw_h = struct.unpack(">II", body[offset : offset + 8])
                if raw_w >> 16 and raw_h >> 16:
                    return raw_w >> 16, raw_h >> 16
    return None, None


class ProbedReader:
    """A file-like view of the video that is checked before the first byte is handed on, and measured as it passes.

    `peek()` reads the first bytes and raises NotAVideoError right away for anything that is not a video, so
    junk is refused before any upload starts (nothing to clean up in the bucket). Afterwards `facts` holds what
    the MP4 header said, once the stream has been read to its end.
    """

    def __init__(self, stream: Any, probe: VideoProbe | None = None) -> None:
        self._stream = stream
        self.probe = probe or VideoProbe()
        self._head = b""
        self.facts: VideoFacts | None = None

    def peek(self) -> str:
        """The container ("mp4" or "webm"), from the first bytes."""
        head = b""
        while len(head) < HEAD_BYTES:
            chunk: bytes = self._stream.read(HEAD_BYTES - len(head))
            if not chunk:
                break
            head += chunk
        if not head:
            raise NotAVideoError("the video URL's body is empty")
        self._head = head
        self.probe.feed(head)
        if len(head) < HEAD_BYTES:
            self.facts = self.probe.finish()  # a body this short is a video only if it is WebM's magic number
        assert self.probe.container is not None
        return self.probe.container

    def read(self, size: int = -1) -> bytes:
        # The peeked head goes out with the rest of the first read: callers (s3transfer) take a short read
        # for the end of the stream.
        head, self._head = self._head, b""
        wanted = size - len(head) if size is not None and size >= 0 else -1
        chunk: bytes = self._stream.read(wanted) if wanted != 0 else b""
        if chunk:
            self.probe.feed(chunk)
        elif self.facts is None and wanted != 0:
            self.facts = self.probe.finish()
        return head + chunk
