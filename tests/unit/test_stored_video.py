"""The previews function reads a stored video streamed: ranged GETs of what the decoder asks for, never the whole
object (moto's S3). The video is padded with a `free` box before its index, as in the benchmark, so the decoder
must seek across the whole object and back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from benchmarks.previews import write_padded_video
from i2v.adapters.aws import reset_clients
from i2v.adapters.media import render_previews
from i2v.adapters.stored_video import StoredVideos

MIB = 1024 * 1024


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "t"),
        ("AWS_SECRET_ACCESS_KEY", "t"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    reset_clients()
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="out")
        yield
    reset_clients()


def test_a_big_video_is_previewed_from_a_few_ranged_reads(s3: None, tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    write_padded_video(path, 24 * MIB)
    boto3.client("s3").upload_file(str(path), "out", "videos/big.mp4")

    video = StoredVideos(block_size=MIB).open("out", "videos/big.mp4")
    with video:
        made = render_previews(video)

    assert video.size == 24 * MIB
    assert video.bytes_fetched <= 4 * MIB  # the index at the end, the first seconds at the start
    assert video.requests <= 6
    assert made.poster_seconds >= 1.0  # past the black lead-in
    assert made.frame_count > 1


def test_reads_and_seeks_behave_like_a_file(s3: None) -> None:
    body = bytes(range(256)) * 40  # 10240 bytes
    boto3.client("s3").put_object(Bucket="out", Key="videos/small.mp4", Body=body)
    video = StoredVideos(block_size=1000).open("out", "videos/small.mp4")
    assert video.read(10) == body[:10]
    assert video.seek(-5, 2) == len(body) - 5
    assert video.read(100) == body[-5:]
    assert video.read(1) == b""
    video.seek(2500)
    assert video.read(1200) == body[2500:3500]  # within one block: a short read, as a raw file may give
    assert video.tell() == 3500
    with pytest.raises(ValueError, match="negative"):
        video.seek(-1)
