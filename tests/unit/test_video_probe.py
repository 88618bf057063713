"""The streaming video check: containers by their first bytes, MP4 duration and size from the header."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from i2v.domain.video_probe import NotAVideoError, ProbedReader, VideoProbe


def make_mp4(path: Path, width: int, height: int, frames: int, fps: int, faststart: bool) -> bytes:
    # faststart (moov moved before mdat) rewrites the file, so it needs a real one.
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index in range(frames):
            image = Image.new("RGB", (width, height), (index * 20 % 255, 80, 160))
            frame = av.VideoFrame.from_image(image)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def probe(data: bytes, chunk: int) -> VideoProbe:
    found = VideoProbe()
    for pos in range(0, len(data), chunk):
        found.feed(data[pos : pos + chunk])
    return found


@pytest.mark.parametrize("faststart", [True, False], ids=["moov-first", "moov-last"])
@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_mp4_duration_and_size_from_the_stream(tmp_path: Path, faststart: bool, chunk: int) -> None:
    data = make_mp4(tmp_path / "v.mp4", 96, 64, frames=15, fps=10, faststart=faststart)
    facts = probe(data, chunk).finish()
    assert facts.container == "mp4"
    assert facts.width == 96
    assert facts.height == 64
    assert facts.duration_seconds == pytest.approx(1.5, abs=0.11)


def test_webm_is_recognised_by_its_ebml_header() -> None:
    facts = probe(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + bytes(100), 5).finish()
    assert facts.container == "webm"
    assert facts.duration_seconds is None


@pytest.mark.parametrize(
    "junk",
    [b"<!DOCTYPE html><html>502 Bad Gateway</html>", b"\x89PNG\r\n\x1a\n" + bytes(40), b"{}" * 20],
)
def test_junk_is_refused_on_its_first_bytes(junk: bytes) -> None:
    found = VideoProbe()
    with pytest.raises(NotAVideoError, match="not a video"):
        found.feed(junk)


@pytest.mark.parametrize("short", [b"", b"\x00\x00\x00", b"\x00\x00\x00\x18ftyp"])
def test_a_body_too_short_to_tell_is_not_a_video(short: bytes) -> None:
    found = probe(short, 1) if short else VideoProbe()
    with pytest.raises(NotAVideoError):
        found.finish()


def test_a_huge_moov_is_skipped_not_buffered(tmp_path: Path) -> None:
    data = make_mp4(tmp_path / "v.mp4", 32, 32, frames=3, fps=10, faststart=True)
    found = VideoProbe(max_moov_bytes=16)
    found.feed(data)
    facts = found.finish()
    assert facts.container == "mp4"
    assert facts.width is None


class _Chunks:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        chunk, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return chunk


def test_probed_reader_hands_on_every_byte_in_full_reads(tmp_path: Path) -> None:
    data = make_mp4(tmp_path / "v.mp4", 64, 48, frames=10, fps=10, faststart=False)
    reader = ProbedReader(_Chunks(data))
    assert reader.peek() == "mp4"
    first = reader.read(len(data) // 2)
    assert len(first) == len(data) // 2  # a full read: the peeked head does not shorten it
    rest = b"".join(iter(lambda: reader.read(1000), b""))
    assert first + rest == data
    assert reader.facts is not None
    assert (reader.facts.width, reader.facts.height) == (64, 48)


def test_probed_reader_refuses_junk_before_handing_on_anything() -> None:
    reader = ProbedReader(_Chunks(b"<html>error</html>" * 100))
    with pytest.raises(NotAVideoError):
        reader.peek()
