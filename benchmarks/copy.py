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
from benchmarks.report import Benchmark, Row, Run, mark, md_table, ratio
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


# ---- the benchmark: result, summary rows, section -----------------------------------------------------------


@dataclass
class CopyResults:
    pairs: list[tuple[CopyRun, CopyRun]]  # (ours, baseline) per size: median throughput, worst RSS growth


def measure(bench: Run) -> CopyResults:
    sizes = QUICK_SIZES if bench.quick else SIZES
    repeats = 1 if bench.quick else 3
    pairs = []
    for size in sizes:
        times = repeats if size < 1024 * MIB else 1 if size > 1024 * MIB else 2
        bench.log(f"copy: {size // MIB} MiB x {times}")
        pairs.append(_median_pair([run((size,))[0] for _ in range(times)]))
    return CopyResults(pairs)


def _median_pair(runs: list[tuple[CopyRun, CopyRun]]) -> tuple[CopyRun, CopyRun]:
    """Median throughput of each side; the worst peak RSS growth."""

    def pick(side: list[CopyRun]) -> CopyRun:
        ordered = sorted(side, key=lambda r: r.seconds)
        middle = ordered[(len(ordered) - 1) // 2]
        return CopyRun(middle.mode, middle.size, middle.seconds, max(r.rss_growth for r in side))

    return pick([o for o, _ in runs]), pick([b for _, b in runs])


def rows(bench: Run) -> list[Row]:
    found = bench.result("copy", CopyResults)
    out: list[Row] = []
    for o, b in found.pairs if found else []:
        size = f"{o.size // MIB} MiB"
        out.append(
            Row(
                f"{size}: peak RSS growth (MB)",
                f"{o.rss_growth / 1e6:.0f}",
                f"{b.rss_growth / 1e6:.0f}",
                ratio(o.rss_growth, b.rss_growth),
                "<= 100 MB, flat",
                mark(o.rss_growth <= 100e6),
            )
        )
        out.append(
            Row(
                f"{size}: throughput (MiB/s)",
                f"{o.throughput:.0f}",
                f"{b.throughput:.0f}",
                ratio(o.throughput, b.throughput),
                ">= 0.8x",
                mark(o.throughput >= 0.8 * b.throughput),
            )
        )
    return out


def section(bench: Run) -> list[str]:
    found = bench.result("copy", CopyResults)
    if found is None:
        return []
    body = [
        [
            f"{o.size // MIB} MiB",
            f"{o.rss_growth / 1e6:.0f}",
            f"{b.rss_growth / 1e6:.0f}",
            f"{o.throughput:.0f}",
            f"{b.throughput:.0f}",
            ratio(o.throughput, b.throughput),
        ]
        for o, b in found.pairs
    ]
    return [
        "The complete step's copy path (`open_video` + `CheckedStream` + `VideoStore.upload`, allow-list 127.0.0.1, "
        "the simulator's CA) from the GMI simulator (HTTPS, synthetic video with Content-Length, `add_large_video`) "
        "into a moto server (`python -m moto.server`, its own process). Each copy runs in a fresh child process "
        "(`benchmarks/copy_worker.py`); peak RSS growth = VmHWM after the copy minus VmRSS after imports and client "
        "set-up (peak reset via /proc/self/clear_refs). Baseline: `boto3.client('s3').upload_file` of the same bytes "
        "from a local file (default TransferConfig), same emulator. Throughput: median of 3 runs (2 at 1 GiB); "
        "RSS: worst run. Both sides are bounded by the emulator on loopback, so ratios matter more than MiB/s.",
        "",
        md_table(["size", "ours peak RSS growth (MB)", "baseline (MB)", "ours MiB/s", "baseline MiB/s", "ratio"], body),
        "",
    ]


def readme(bench: Run) -> list[str]:
    found = bench.result("copy", CopyResults)
    if found is None or not found.pairs:
        return []
    ratios = [o.throughput / b.throughput for o, b in found.pairs]
    sizes = [o.size // MIB for o, _ in found.pairs]
    return [
        f"- **Big videos**: the completion step streams {min(sizes)} MiB to {max(sizes)} MiB into S3 with a flat "
        f"peak memory growth of {max(o.rss_growth for o, _ in found.pairs) / 1e6:.0f} MB or less, at "
        f"{min(ratios):.2f}x to {max(ratios):.2f}x the throughput of boto3's `upload_file` from a local file.",
    ]


BENCHMARK = Benchmark("copy", "copy", "Video copy", measure, rows, section, readme=readme)
