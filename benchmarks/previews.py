"""Benchmark 7: previews of big stored videos: peak memory stays flat because the video is read streamed.

The video is a real H.264 MP4 (a few seconds, 1280x720, its `moov` index at the end, as many encoders write it)
padded to the size with a `free` box between its media and its index, so the decoder must seek across the
whole object to find the index and come back, as in any big video whose index comes last.
It lives in a moto server (its own process); each preview runs in a fresh child process
(`benchmarks/previews_worker.py`) with the previews function's code (`StoredVideos` + `render_previews`).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig

from benchmarks.coldstart import ROOT
from benchmarks.report import Benchmark, Row, Run, mark, md_table
from benchmarks.servers import CREDENTIALS, MotoServer

MIB = 1024 * 1024
SIZES = (100 * MIB, 2048 * MIB)
QUICK_SIZES = (8 * MIB,)
BUCKET = "bench-previews"
RSS_TARGET = 200e6  # bytes of growth: flat, far below any video size that matters


@dataclass
class PreviewRun:
    size: int
    seconds: float
    rss_growth: int
    requests: int
    bytes_fetched: int
    preview_bytes: int


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """Top-level MP4 boxes as (type, whole box)."""
    boxes, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        boxes.append((kind, data[at : at + (size or len(data) - at)]))
        at += size or len(data) - at
    return boxes


def write_padded_video(path: Path, size: int) -> None:
    """A short real MP4 grown to `size` bytes by a `free` box before its `moov` (offsets into mdat unchanged)."""
    from i2v_local.media_samples import make_mp4

    boxes = _boxes(make_mp4(seconds=6.0, fps=25, size=(1280, 720), blank_seconds=1.0))
    if [kind for kind, _ in boxes][-1] != b"moov":
        raise RuntimeError("expected the encoder to write moov last")
    pad = size - sum(len(box) for _, box in boxes)
    if pad < 16:
        raise ValueError(f"{size} bytes is smaller than the video itself")
    with path.open("wb") as out:
        for _, box in boxes[:-1]:
            out.write(box)
        out.write(struct.pack(">I4sQ", 1, b"free", pad) if pad >= 2**32 else struct.pack(">I4s", pad, b"free"))
        left, zeros = pad - (16 if pad >= 2**32 else 8), bytes(MIB)
        while left:
            out.write(zeros[: min(left, MIB)])
            left -= min(left, MIB)
        out.write(boxes[-1][1])


def _worker(key: str, endpoint: str) -> PreviewRun:
    paths = os.pathsep.join(str(ROOT / p) for p in ("", "functions", "infrastructure", "local"))
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": paths}
    output = subprocess.run(  # noqa: S603 - our interpreter, fixed module
        [sys.executable, "-m", "benchmarks.previews_worker", BUCKET, key],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if output.returncode != 0:
        raise RuntimeError(f"previews worker failed: {output.stderr[-2000:]}")
    found = json.loads(output.stdout.strip().splitlines()[-1])
    return PreviewRun(
        int(found["size"]),
        float(found["seconds"]),
        int(found["rss_peak"]) - int(found["rss_before"]),
        int(found["requests"]),
        int(found["bytes_fetched"]),
        int(found["preview_bytes"]),
    )


def run(sizes: tuple[int, ...] = SIZES) -> list[PreviewRun]:
    results = []
    with MotoServer() as moto, tempfile.TemporaryDirectory() as tmp:
        s3 = boto3.client(
            "s3",
            endpoint_url=moto.url,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        for size in sizes:
            s3.create_bucket(Bucket=BUCKET)
            local = Path(tmp) / f"video-{size}.mp4"
            write_padded_video(local, size)
            key = f"videos/big-{size}.mp4"
            s3.upload_file(str(local), BUCKET, key, Config=TransferConfig(multipart_chunksize=64 * MIB))
            local.unlink()
            results.append(_worker(key, moto.url))
            moto.reset()  # moto holds objects in memory: the next size starts from the same point
    return results


def measure(bench: Run) -> list[PreviewRun]:
    sizes = QUICK_SIZES if bench.quick else SIZES
    bench.log(f"previews: {', '.join(f'{s // MIB} MiB' for s in sizes)}")
    return run(sizes)


def rows(bench: Run) -> list[Row]:
    found = bench.result("previews", list) or []
    return [
        Row(
            f"{r.size // MIB} MiB video: peak RSS growth (MB)",
            f"{r.rss_growth / 1e6:.0f}",
            f"{r.size / 1e6:.0f} (downloaded whole)",
            f"{r.rss_growth / r.size:.3f}x",
            f"<= {RSS_TARGET / 1e6:.0f} MB, flat",
            mark(r.rss_growth <= RSS_TARGET),
        )
        for r in found
    ]


def section(bench: Run) -> list[str]:
    found: list[PreviewRun] = bench.result("previews", list) or []
    if not found:
        return []
    body = [
        [
            f"{r.size // MIB} MiB",
            f"{r.rss_growth / 1e6:.0f}",
            str(r.requests),
            f"{r.bytes_fetched / MIB:.1f}",
            f"{r.seconds:.1f}",
            f"{r.preview_bytes // 1024}",
        ]
        for r in found
    ]
    return [
        (__doc__ or "").split("\n\n", 1)[1].strip().replace("\n", " "),
        "Peak RSS growth = VmHWM after the preview minus VmRSS after imports and client set-up. A decoder that "
        "downloads the video first needs at least its size (the baseline column of the summary).",
        "",
        md_table(["video", "peak RSS growth (MB)", "ranged GETs", "MiB read from S3", "seconds", "preview (KB)"], body),
        "",
    ]


def readme(bench: Run) -> list[str]:
    found: list[PreviewRun] = bench.result("previews", list) or []
    if not found:
        return []
    biggest = max(found, key=lambda r: r.size)
    return [
        f"- **Previews of big videos**: a {biggest.size // MIB} MiB video is previewed with "
        f"{biggest.rss_growth / 1e6:.0f} MB of peak memory growth, reading {biggest.bytes_fetched / MIB:.0f} MiB "
        f"of it from S3 in {biggest.requests} ranged GETs.",
    ]


BENCHMARK = Benchmark("previews", "previews", "Previews of big videos", measure, rows, section, readme=readme)
