"""Benchmark 2: the complete step's video copy (GMI video URL -> S3) against boto3's upload_file of a local file.

The S3 emulator (moto server) and the video host (the GMI simulator, HTTPS with its throwaway CA, serving a
synthetic video with Content-Length) run outside the measured process; each copy runs in a fresh child
process (`benchmarks.copy_worker`) that reports its peak RSS growth over its RSS after imports and client set-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3

from benchmarks.coldstart import ROOT
from benchmarks.servers import CREDENTIALS, MotoServer

MIB = 1024 * 1024
# Up to the 2 GiB of the fault scenarios (no. 20): the memory must not grow with the size.
SIZES = (10 * MIB, 100 * MIB, 1024 * MIB, 2048 * MIB)
QUICK_SIZES = (2 * MIB,)
BUCKET = "bench-videos"


@dataclass
class CopyRun:
    mode: str  # "ours" | "baseline"
    size: int
    seconds: float
    rss_growth: int

    @property
    def throughput(self) -> float:
        """MiB/s."""
        return self.size / MIB / self.seconds


def _worker(mode: str, source: str, key: str, endpoint: str, extra_env: dict[str, str]) -> CopyRun:
    paths = os.pathsep.join(str(ROOT / p) for p in ("", "functions", "infrastructure", "local"))
    env = {**os.environ, **CREDENTIALS, **extra_env, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": paths}
    output = subprocess.run(  # noqa: S603 - our interpreter, fixed module
        [sys.executable, "-m", "benchmarks.copy_worker", mode, source, BUCKET, key],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if output.returncode != 0:
        raise RuntimeError(f"copy worker ({mode}) failed: {output.stderr[-2000:]}")
    found = json.loads(output.stdout.strip().splitlines()[-1])
    if found["stored"] != found["bytes"]:
        raise RuntimeError(f"{mode}: stored {found['stored']} of {found['bytes']} bytes")
    return CopyRun(
        mode, int(found["bytes"]), float(found["seconds"]), int(found["rss_peak"]) - int(found["rss_before"])
    )


def _write_file(path: Path, size: int) -> None:
    from i2v_local.simulator.video import synthetic_chunks

    with path.open("wb") as out:
        for chunk in synthetic_chunks(size):
            out.write(chunk)


def run(sizes: tuple[int, ...] = SIZES) -> list[tuple[CopyRun, CopyRun]]:
    """(ours, baseline) per size."""
    from i2v_local.simulator import GmiSimulator, Timing

    results = []
    with MotoServer() as moto, GmiSimulator(timing=Timing.zero()) as sim, tempfile.TemporaryDirectory() as tmp:
        s3 = boto3.client(
            "s3",
            endpoint_url=moto.url,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        sim_env = {"REQUESTS_CA_BUNDLE": sim.ca_bundle_path or ""}
        for size in sizes:
            s3.create_bucket(Bucket=BUCKET)
            request_id = sim.add_large_video(size)
            ours = _worker("ours", sim.video_url(request_id), f"ours-{size}.mp4", moto.url, sim_env)
            moto.reset()  # moto holds objects in memory: give the next run the same starting point
            s3.create_bucket(Bucket=BUCKET)
            local = Path(tmp) / f"video-{size}.mp4"
            _write_file(local, size)
            baseline = _worker("baseline", str(local), f"baseline-{size}.mp4", moto.url, {})
            local.unlink()
            moto.reset()
            results.append((ours, baseline))
    return results
