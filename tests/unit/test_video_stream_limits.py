"""CheckedStream (adapters.video_source): the size limit and the caller's deadline, piece by piece."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from i2v.adapters.video_source import READ_PIECE_BYTES, CheckedStream
from i2v.domain.downloads import READ_TIMEOUT_SECONDS, DownloadStoppedError, VideoTooLargeError


class _Socket:
    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def settimeout(self, seconds: float) -> None:
        self.timeouts.append(seconds)


class _Body:
    """A body on a socket: read1 returns one piece at most, as urllib3's does."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.connection = SimpleNamespace(sock=_Socket())
        self.reads: list[int] = []

    def read1(self, size: int) -> bytes:
        self.reads.append(size)
        return self._data.read(size)


def test_a_whole_part_is_read_in_pieces_each_socket_wait_bounded_by_the_time_left() -> None:
    body = _Body(b"\x01" * (3 * READ_PIECE_BYTES))
    left = iter([100.0, 12.5, 3.0, 2.0])
    stream = CheckedStream(body, None, 10**9, seconds_left=lambda: next(left))
    assert len(stream.read(8 * 1024 * 1024)) == 3 * READ_PIECE_BYTES  # a full part unless the body ends
    assert max(body.reads) <= READ_PIECE_BYTES
    assert body.connection.sock.timeouts == [READ_TIMEOUT_SECONDS, 12.5, 3.0, 2.0]


def test_the_stream_stops_when_the_time_is_up() -> None:
    body = _Body(b"\x01" * (3 * READ_PIECE_BYTES))
    left = iter([5.0, 0.0])
    stream = CheckedStream(body, None, 10**9, seconds_left=lambda: next(left))
    with pytest.raises(DownloadStoppedError, match="stopped at its deadline after 262144 bytes"):
        stream.read(8 * 1024 * 1024)
    assert isinstance(stream.interrupted, DownloadStoppedError)


def test_past_the_limit_without_content_length_the_stream_refuses_at_once() -> None:
    body = _Body(b"\x01" * (10 * READ_PIECE_BYTES))
    stream = CheckedStream(body, None, READ_PIECE_BYTES + 1)
    with pytest.raises(VideoTooLargeError):
        stream.read(8 * 1024 * 1024)
    assert stream.received == 2 * READ_PIECE_BYTES  # one piece past the limit, not the whole body
    assert stream.interrupted is None  # not a broken download: nothing to retry
