"""Runs the benchmarks and renders the summary table and docs/benchmarks.md."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import burst, coldstart, copy, cost, mix, policy

BENCHMARKS = ("policy", "copy", "coldstart", "burst", "cost")
MIB = 1024 * 1024


@dataclass
class Results:
    quick: bool
    policy: dict[float, list[policy.PolicyResult]] = field(default_factory=dict)  # sigma -> results
    poll_policy: dict[str, Any] = field(default_factory=dict)
    copies: list[tuple[copy.CopyRun, copy.CopyRun]] = field(default_factory=list)
    coldstarts: list[coldstart.ColdStart] = field(default_factory=list)
    burst: burst.BurstResult | None = None
    costs: dict[str, list[cost.CostLine]] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    total_seconds: float = 0.0
    command: str = "make bench"
    started_at: str = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    load_before: str = ""


def run_all(quick: bool, only: tuple[str, ...], log: Callable[[str], None]) -> Results:
    results = Results(quick=quick, load_before=_loadavg())
    if "policy" in only or "cost" in only:
        count = 300 if quick else 3000
        chosen = policy.deployed_policy()
        results.poll_policy = chosen.model_dump()
        for sigma in (mix.DEFAULT_SIGMA, *(() if quick else mix.SENSITIVITY_SIGMAS)):
            log(f"policy: {count} jobs, sigma {sigma}")
            results.policy[sigma] = policy.run(count, sigma, chosen)
    if "copy" in only:
        sizes = copy.QUICK_SIZES if quick else copy.SIZES
        repeats = 1 if quick else 3
        for size in sizes:
            log(f"copy: {size // MIB} MiB x {repeats}")
            runs = [
                copy.run((size,))[0] for _ in range(repeats if size < 1024 * MIB else 1 if size > 1024 * MIB else 2)
            ]
            results.copies.append(_median_pair(runs))
    if "coldstart" in only:
        log("cold start: fresh interpreters")
        results.coldstarts = coldstart.run(repeats=3 if quick else 15)
    if "burst" in only or "cost" in only:
        images = 6 if quick else 200
        log(f"burst: {images} images through the local stack")
        try:
            results.burst = burst.run(images, timeout=120 if quick else 600)
        except Exception as error:  # reported as a gap, never as numbers
            results.gaps.append(f"burst: the local stack run failed: {type(error).__name__}: {error}")
    if "cost" in only and results.burst is not None and results.policy:
        ours = results.policy[mix.DEFAULT_SIGMA][0]
        fixed_60 = results.policy[mix.DEFAULT_SIGMA][1]
        for kind in cost.KINDS:
            for label, result in ((kind.name, ours), (f"{kind.name}, fixed 60 s baseline", fixed_60)):
                results.costs[label] = cost.per_video(
                    kind,
                    result.mean_of(kind.job_class, "polls"),
                    result.mean_of(kind.job_class, "rounds"),
                    result.mean_of(kind.job_class, "invocation_seconds"),
                    results.burst,
                )
    return results


def _median_pair(runs: list[tuple[copy.CopyRun, copy.CopyRun]]) -> tuple[copy.CopyRun, copy.CopyRun]:
    """Median throughput of each side; the worst peak RSS growth."""

    def pick(side: list[copy.CopyRun]) -> copy.CopyRun:
        ordered = sorted(side, key=lambda r: r.seconds)
        middle = ordered[(len(ordered) - 1) // 2]
        return copy.CopyRun(middle.mode, middle.size, middle.seconds, max(r.rss_growth for r in side))

    return pick([o for o, _ in runs]), pick([b for _, b in runs])


# ---- the summary table ------------------------------------------------------------------------------------


@dataclass
class Row:
    benchmark: str
    metric: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: str


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base else "-"


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


def rows(results: Results) -> list[Row]:
    out: list[Row] = []
    if mix.DEFAULT_SIGMA in results.policy:
        ours, f60, f180 = results.policy[mix.DEFAULT_SIGMA]
        a, b60, b180 = ours.summary(), f60.summary(), f180.summary()
        for key, label, target, limit in (
            ("lag_p50", "detection lag p50 (s)", "<= 3 s", 3.0),
            ("lag_p95", "detection lag p95 (s)", "<= 6 s", 6.0),
            ("polls_mean", "polls per job (mean)", "<= 25", 25.0),
            ("rounds_mean", "poll invocations per job", "", None),
            ("transitions_mean", "state transitions per job", "", None),
            ("history_events_mean", "history events per job", "", None),
        ):
            out.append(
                Row(
                    "1 polling",
                    label,
                    f"{a[key]:.1f}",
                    f"{b60[key]:.1f} / {b180[key]:.1f}",
                    _ratio(a[key], b60[key]),
                    target,
                    _mark(None if limit is None else a[key] <= limit),
                )
            )
    for o, b in results.copies:
        size = f"{o.size // MIB} MiB"
        out.append(
            Row(
                "2 copy",
                f"{size}: peak RSS growth (MB)",
                f"{o.rss_growth / 1e6:.0f}",
                f"{b.rss_growth / 1e6:.0f}",
                _ratio(o.rss_growth, b.rss_growth),
                "<= 100 MB, flat",
                _mark(o.rss_growth <= 100e6),
            )
        )
        out.append(
            Row(
                "2 copy",
                f"{size}: throughput (MiB/s)",
                f"{o.throughput:.0f}",
                f"{b.throughput:.0f}",
                _ratio(o.throughput, b.throughput),
                ">= 0.8x",
                _mark(o.throughput >= 0.8 * b.throughput),
            )
        )
    if results.coldstarts:
        base_cs, *handlers = results.coldstarts
        for h in handlers:
            out.append(
                Row(
                    "3 cold start",
                    f"{h.name}: import+init, wall / CPU (ms)",
                    f"{h.median_wall * 1000:.0f} / {h.median_cpu * 1000:.0f}",
                    f"{base_cs.median_wall * 1000:.0f} / {base_cs.median_cpu * 1000:.0f}",
                    f"{h.median_wall / base_cs.median_wall:.2f}x / {h.median_cpu / base_cs.median_cpu:.2f}x",
                    "<= 1.5x",
                    _mark(h.median_wall <= 1.5 * base_cs.median_wall)
                    + " / "
                    + _mark(h.median_cpu <= 1.5 * base_cs.median_cpu),
                )
            )
    if results.burst is not None:
        r = results.burst
        out += [
            Row("4 burst", f"{r.images} images: wall time (s)", f"{r.wall_seconds:.1f}", "-", "-", "", "-"),
            Row("4 burst", "jobs per second", f"{r.jobs_per_second:.2f}", "-", "-", "", "-"),
            Row(
                "4 burst",
                "max concurrent submissions",
                str(r.max_concurrent_submits),
                f"cap {r.submit_cap}",
                "-",
                "<= cap",
                _mark(r.submit_cap is None or r.max_concurrent_submits <= r.submit_cap),
            ),
            Row("4 burst", "jobs lost", str(r.lost), "-", "-", "0", _mark(r.lost == 0)),
        ]
    for kind in cost.KINDS:
        if kind.name in results.costs:
            ours_total = cost.total(results.costs[kind.name])
            base_total = cost.total(results.costs[f"{kind.name}, fixed 60 s baseline"])
            out.append(
                Row(
                    "5 cost",
                    f"{kind.name}: infrastructure $ per video",
                    f"{ours_total:.5f}",
                    f"{base_total:.5f} (fixed 60 s)",
                    _ratio(ours_total, base_total),
                    "<= $0.001",
                    _mark(ours_total <= 0.001),
                )
            )
    return out


def summary_table(results: Results) -> str:
    header = Row("benchmark", "metric", "ours", "baseline", "ratio", "target", "met")
    table = [header, *rows(results)]
    widths = [max(len(getattr(r, f)) for r in table) for f in Row.__dataclass_fields__]
    lines = []
    for index, row in enumerate(table):
        cells = [getattr(row, f).ljust(w) for f, w in zip(Row.__dataclass_fields__, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    for gap in results.gaps:
        lines.append(f"GAP: {gap}")
    return "\n".join(lines)


# ---- docs/benchmarks.md -----------------------------------------------------------------------------------


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "n/a"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "CPU": cpu,
        "cores (nproc)": str(os.cpu_count()),
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "commit": _git("rev-parse", "--short", "HEAD"),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "n/a"


def _md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def write_markdown(results: Results, path: str) -> None:
    Path(path).write_text(markdown(results))


def markdown(results: Results) -> str:
    m = machine()
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks --output docs/benchmarks.md`); do not edit by hand. "
        "Benchmarks are measurements, not tests: `make test` only checks that this code runs on tiny inputs "
        "(`tests/bench/`).",
        "",
        f"- command: `{results.command}`, started {results.started_at}, took {results.total_seconds / 60:.1f} min",
        "- machine: " + ", ".join(f"{k} {v}" for k, v in m.items()),
        f"- load average when the run started: {results.load_before} (other work on the machine inflates wall times)",
        "",
        "## Summary",
        "",
        _md_table(
            ["benchmark", "metric", "ours", "baseline", "ratio", "target", "met"],
            [[r.benchmark, r.metric, r.ours, r.baseline, r.ratio, r.target, r.met] for r in rows(results)],
        ),
        "",
    ]
    if results.gaps:
        parts += ["**Gaps:** " + "; ".join(results.gaps), ""]
    parts += _policy_section(results) + _copy_section(results) + _coldstart_section(results)
    parts += _burst_section(results) + _cost_section(results)
    return "\n".join(parts) + "\n"


def _policy_section(results: Results) -> list[str]:
    if not results.policy:
        return []
    classes = mix.job_classes()
    out = [
        "## 1. Polling policy",
        "",
        "The real `i2v.domain.polling` functions, replayed in simulated time over a reference mix of GMI generation "
        "times. Production path: at submit, `learn_expectation` over the generation times of the latest "
        f"{policy.HISTORY_LIMIT} successes filtered to the job's model/quality/duration "
        "(`JobRepository.recent_generation_seconds`); only jobs finished before a job's submission are in its "
        "history. First wait `next_wait_seconds(0, ...)`, then per poll `next_wait_seconds` + `wait_before_deadline`. "
        f"Each poll sees GMI {policy.POLL_OVERHEAD_SECONDS} s after its Wait ends (state transition, warm invoke, GET). "
        "Lag = time from GMI success to the poll that sees it. Baselines on the same jobs: a fixed 60 s schedule and "
        "a fixed 180 s wait (repeated if needed). State transitions and history events are counted by walking the "
        "synthesized state machine definition (per poll: Wait, Poll, Route = 3 transitions, 9 history events).",
        "",
        f"Policy as deployed (cdk.json `poll_policy` over the `PollPolicy` defaults): `{results.poll_policy}`.",
        "",
        "**Reference mix** (`benchmarks/mix.py`, seeded): 11 classes quality x duration (no 10 s at 1080p), "
        f"class median = {mix.BASE_MEDIAN_SECONDS:.0f} s x quality factor {mix.QUALITY_FACTOR} x duration factor "
        f"{mix.DURATION_FACTOR}; shares quality {mix.QUALITY_SHARE} x duration {mix.DURATION_SHARE}; jobs arrive "
        "as a Poisson stream, one a minute on average; within a class the time is lognormal with sigma "
        f"{mix.DEFAULT_SIGMA} (p5-p95 = x0.66-x1.51 of the class median), clamped to "
        f"{mix.MIN_SECONDS:.0f}-{mix.MAX_SECONDS:.0f} s. Why this sigma: GMI's time is dominated by compute that is "
        "fixed by resolution x length, so the spread within a class comes from queue wait and GPU contention, which "
        "multiply. It is an assumption, not a measurement of GMI: the sensitivity rows show where the targets stop "
        "holding with wider spreads. The mix was fixed before the policy was tuned; the policy was tuned to it.",
        "",
        _md_table(
            ["class", "median (s)", "share"],
            [[c.name, f"{c.median_seconds:.0f}", f"{c.share:.3f}"] for c in classes],
        ),
        "",
    ]
    body = []
    for sigma, trio in results.policy.items():
        for result in trio:
            for warm, label in ((None, "all"), (True, "warm"), (False, "cold")):
                s = result.summary(warm)
                if not s.get("jobs"):
                    continue
                body.append(
                    [
                        f"{sigma}",
                        result.name,
                        label,
                        f"{s['jobs']:.0f}",
                        f"{s['lag_p50']:.1f}",
                        f"{s['lag_p95']:.1f}",
                        f"{s['lag_max']:.0f}",
                        f"{s['polls_mean']:.1f}",
                        f"{s['polls_p95']:.0f}",
                        f"{s['transitions_mean']:.1f}",
                        f"{s['history_events_mean']:.0f}",
                    ]
                )
    out += [
        "Warm = a learned expectation existed at submit; cold = fewer than `min_samples` jobs of the class in the "
        "history (the first jobs of a class, and rare classes whose share of the last 200 successes is small). "
        '"all" includes the cold jobs; the targets are judged on "all".',
        "",
        _md_table(
            [
                "sigma",
                "schedule",
                "jobs",
                "n",
                "lag p50 (s)",
                "lag p95 (s)",
                "lag max (s)",
                "polls mean",
                "polls p95",
                "transitions",
                "history events",
            ],
            body,
        ),
        "",
    ]
    return out


def _copy_section(results: Results) -> list[str]:
    if not results.copies:
        return []
    body = [
        [
            f"{o.size // MIB} MiB",
            f"{o.rss_growth / 1e6:.0f}",
            f"{b.rss_growth / 1e6:.0f}",
            f"{o.throughput:.0f}",
            f"{b.throughput:.0f}",
            _ratio(o.throughput, b.throughput),
        ]
        for o, b in results.copies
    ]
    return [
        "## 2. Video copy",
        "",
        "The complete step's copy path (`open_video` + `CheckedStream` + `VideoStore.upload`, allow-list 127.0.0.1, "
        "the simulator's CA) from the GMI simulator (HTTPS, synthetic video with Content-Length, `add_large_video`) "
        "into a moto server (`python -m moto.server`, its own process). Each copy runs in a fresh child process "
        "(`benchmarks/copy_worker.py`); peak RSS growth = VmHWM after the copy minus VmRSS after imports and client "
        "set-up (peak reset via /proc/self/clear_refs). Baseline: `boto3.client('s3').upload_file` of the same bytes "
        "from a local file (default TransferConfig), same emulator. Throughput: median of 3 runs (2 at 1 GiB); "
        "RSS: worst run. Both sides are bounded by the emulator on loopback, so ratios matter more than MiB/s.",
        "",
        _md_table(
            ["size", "ours peak RSS growth (MB)", "baseline (MB)", "ours MiB/s", "baseline MiB/s", "ratio"], body
        ),
        "",
    ]


def _coldstart_section(results: Results) -> list[str]:
    if not results.coldstarts:
        return []
    base = results.coldstarts[0]
    body = [
        [
            c.name,
            str(len(c.wall)),
            f"{c.median_wall * 1000:.0f}",
            f"{c.median_cpu * 1000:.0f}",
            f"{c.median_wall / base.median_wall:.2f}x",
            f"{c.median_cpu / base.median_cpu:.2f}x",
        ]
        for c in results.coldstarts
    ]
    return [
        "## 3. Cold start",
        "",
        "Import-and-init of each handler module (`import i2v.handlers.<name>`, which validates the environment and "
        "builds the service; boto3 clients are created lazily on first use) in fresh interpreters with dummy "
        "environment values and `LAMBDA_TASK_ROOT` set (so the X-Ray SDK takes its Lambda path), timed inside the "
        "process; interpreter start-up is excluded. Baseline: `import boto3; boto3.client('s3')`. Samples are "
        "interleaved; medians shown. CPU time is shown beside wall time because wall time on a shared 2-core "
        "machine includes waiting for the CPU.",
        "",
        _md_table(["module", "samples", "wall median (ms)", "CPU median (ms)", "wall ratio", "CPU ratio"], body),
        "",
    ]


def _burst_section(results: Results) -> list[str]:
    r = results.burst
    if r is None:
        return ["## 4. Burst", "", "Not measured: " + "; ".join(results.gaps), ""]
    calls = ", ".join(f"{k} {v / max(1, r.succeeded):.2f}" for k, v in sorted(r.calls.items()))
    return [
        "## 4. Burst",
        "",
        f"{r.images} PNGs put into the input bucket at once; the local stack (`i2v_local.stack.LocalStack`, mode "
        '"mock": the synthesized template\'s resources in moto, the real handlers in-process, the real state '
        "machine in moto's interpreter, the SQS event source run by the stack's pump) with the GMI simulator at "
        "zero generation time and the local fast poll policy. Wall time from the first PUT until the stack is idle.",
        "",
        _md_table(
            ["images", "wall (s)", "jobs/s", "succeeded", "videos stored", "lost", "max concurrent submits", "cap"],
            [
                [
                    str(r.images),
                    f"{r.wall_seconds:.1f}",
                    f"{r.jobs_per_second:.2f}",
                    str(r.succeeded),
                    str(r.videos_stored),
                    str(r.lost),
                    str(r.max_concurrent_submits),
                    str(r.submit_cap),
                ]
            ],
        ),
        "",
        "Caveat: the local stack runs one warm instance per function (a lock per function), so submissions never "
        "overlap locally; the cap (`submit_concurrency`, the event source's MaximumConcurrency) is what bounds them "
        "in AWS. The throughput is that of one process on this machine, not of Lambda.",
        "",
        f"Invocations: {r.invocations}; submit batches: {r.submit_batches}; median local duration (ms): "
        + ", ".join(f"{k} {v:.0f}" for k, v in r.durations_ms.items())
        + f". AWS requests by the handlers per job: {calls}.",
        "",
    ]


def _cost_section(results: Results) -> list[str]:
    if not results.costs:
        return []
    out = [
        "## 5. Cost per video",
        "",
        f"Public AWS list prices, us-east-1, as of {cost.PRICES_DATE} (no free tier): Lambda arm64 "
        "$0.0000133334 per GB-s and $0.20 per million requests; Step Functions Standard $0.025 per 1,000 state "
        "transitions; DynamoDB on-demand $0.625 per million write request units, $0.125 per million read request "
        "units; S3 PUT $0.005 per 1,000, GET $0.0004 per 1,000; SQS $0.40 per million requests; EventBridge custom "
        "events $1.00 per million; CloudWatch Logs ingestion $0.50 per GB; X-Ray $5.00 per million traces; Secrets "
        "Manager $0.05 per 10,000 API calls (the key is cached 300 s per warm instance: ~0 per video). Check current "
        "prices before relying on these.",
        "",
        "Quantities: polls per job = the class mean of benchmark 1 (ours, sigma 0.25); AWS requests per job as "
        "counted in benchmark 4 and read from the code paths; DynamoDB units from the measured job item size "
        f"({results.burst.job_item_bytes if results.burst else 0} B; updates bill the whole item; the claim is a "
        "2-item transaction at 2x; the history query reads the latest 200 job items eventually consistent); "
        f"Lambda memory from the template; durations = local median + {cost.AWS_CALL_MS:.0f} ms per AWS call + "
        f"{cost.GMI_CALL_MS:.0f} ms per GMI call + video at {cost.VIDEO_MIB_PER_SECOND:.0f} MiB/s (assumptions: "
        "real latencies differ); assumed GMI MP4 sizes 4 MiB (540p/5 s) and 16 MiB (1080p/5 s); SQS as a batch of "
        "one (steady traffic); logs = handler output measured in benchmark 4 + Lambda platform lines + the state "
        "machine's ALL-level execution log. Storage of the video and INIT-phase billing of cold starts are not "
        "included. GMI's generation price is not known offline: see GMI Cloud's pricing page for pixverse-v5.5-i2v "
        "(540p/5 s and 1080p/5 s); it dwarfs every line below. Short waits are slept inside the poll invocation "
        "(PollPolicy.inline_max_wait_seconds / inline_budget_seconds), billed as Lambda time instead of Wait, Poll, "
        "Route state transitions.",
        "",
    ]
    header = ["line", *results.costs.keys()]
    items = [line.item for line in next(iter(results.costs.values()))]
    body = []
    for index, item in enumerate(items):
        row = [item]
        for lines in results.costs.values():
            line = lines[index]
            row.append(f"${line.dollars:.6f} ({line.quantity:.1f} {line.unit})")
        body.append(row)
    body.append(["**total**", *(f"**${cost.total(lines):.5f}**" for lines in results.costs.values())])
    body.append(["GMI generation", *("see GMI pricing" for _ in results.costs)])
    out += [_md_table(header, body), ""]
    return out
