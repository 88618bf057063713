"""Benchmark 3: import-and-init time of each handler module in fresh interpreters (Lambda's INIT phase).

Each sample is a new `python -c` process that times `import i2v.handlers.<name>` (module import runs
`service()`: environment validation and client set-up) with perf_counter; interpreter start-up itself is
outside the timing, as it is outside our control in Lambda. Baseline: `import boto3; boto3.client("s3")`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import Benchmark, Row, Run, mark, md_table

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ("submit", "watch", "poll", "complete", "fail")
BASELINE = "import boto3; boto3.client('s3')"

# Dummy values for every variable i2v.config requires (docs/architecture.md); nothing touches the network.
DUMMY_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    "JOBS_TABLE_NAME": "i2v-jobs",
    "EVENT_BUS_NAME": "i2v-events",
    "EVENT_SOURCE": "i2v.pipeline",
    "GMI_BASE_URL": "https://console.gmicloud.ai",
    "GMI_API_KEY_SECRET_ID": "arn:aws:secretsmanager:us-east-1:000000000000:secret:gmi",
    "GMI_MODEL_ID": "pixverse-v5.5-i2v",
    "POWERTOOLS_SERVICE_NAME": "i2v",
    "POWERTOOLS_METRICS_NAMESPACE": "ImageToVideo",
    "OUTPUT_BUCKET": "i2v-output",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:i2v",
    "SUBMIT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/i2v-submit",
    "WATCH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/i2v-watch",
    "VIDEO_HOST_ALLOWLIST": "storage.googleapis.com",
    # As deployed by default (config xray_sdk_tracing false); SDK_TRACING_ENV measures the other setting.
    "POWERTOOLS_TRACE_DISABLED": "true",
}
SDK_TRACING_ENV = {"POWERTOOLS_TRACE_DISABLED": "false"}
SDK_TRACED = "submit, X-Ray SDK on (xray_sdk_tracing)"
# For context, not a target: the baseline with the garbage collector paused as our handlers pause it.
PAUSED_BASELINE = "baseline, GC paused during init like our handlers"
_PAUSED = "import gc; gc.disable(); import boto3; boto3.client('s3'); gc.freeze(); gc.enable()"
OPTIONAL = (SDK_TRACED, PAUSED_BASELINE)

_PROBE = """
import time, json
t0, c0 = time.perf_counter(), time.process_time()
{code}
print(json.dumps({{"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}}))
"""


@dataclass
class ColdStart:
    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median_wall(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def _environment() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "I2V_"))}
    paths = [str(ROOT / part) for part in ("functions", "infrastructure", "local")]
    # LAMBDA_TASK_ROOT makes the X-Ray SDK take its Lambda path (local sampler, no X-Ray client), as in AWS.
    return {**keep, **DUMMY_ENV, "LAMBDA_TASK_ROOT": str(ROOT / "functions"), "PYTHONPATH": os.pathsep.join(paths)}


def sample(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of `code` in a fresh interpreter."""
    output = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [sys.executable, "-c", _PROBE.format(code=code)], env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(output.stdout.strip().splitlines()[-1])
    return float(found["wall"]), float(found["cpu"])


def run(repeats: int = 11) -> list[ColdStart]:
    """Baseline, each handler as deployed by default, and submit with the X-Ray SDK's tracing on."""
    env = _environment()
    candidates = [
        (ColdStart("baseline: import boto3 + s3 client"), BASELINE, env),
        *((ColdStart(n), f"import i2v.handlers.{n}", env) for n in HANDLERS),
        (ColdStart(SDK_TRACED), "import i2v.handlers.submit", {**env, **SDK_TRACING_ENV}),
        (ColdStart(PAUSED_BASELINE), _PAUSED, env),
    ]
    # Warm the bytecode caches once, as a deployed package ships compiled files.
    for _, code, code_env in candidates:
        sample(code, code_env)
    # Interleaved rounds, so drift of the machine affects all candidates alike.
    for _ in range(repeats):
        for result, code, code_env in candidates:
            wall, cpu = sample(code, code_env)
            result.wall.append(wall)
            result.cpu.append(cpu)
    return [result for result, _, _ in candidates]


# ---- the benchmark: result, summary rows, section -----------------------------------------------------------


@dataclass
class ColdStarts:
    baseline: ColdStart
    handlers: list[ColdStart]


def measure(bench: Run) -> ColdStarts:
    bench.log("cold start: fresh interpreters")
    baseline, *handlers = run(repeats=3 if bench.quick else 15)
    return ColdStarts(baseline, handlers)


def rows(bench: Run) -> list[Row]:
    found = bench.result("coldstart", ColdStarts)
    if found is None:
        return []
    base = found.baseline
    return [
        Row(
            f"{h.name}: import+init, wall / CPU (ms)",
            f"{h.median_wall * 1000:.0f} / {h.median_cpu * 1000:.0f}",
            f"{base.median_wall * 1000:.0f} / {base.median_cpu * 1000:.0f}",
            f"{h.median_wall / base.median_wall:.2f}x / {h.median_cpu / base.median_cpu:.2f}x",
            "<= 1.5x",
            mark(h.median_wall <= 1.5 * base.median_wall) + " / " + mark(h.median_cpu <= 1.5 * base.median_cpu),
        )
        for h in found.handlers
        if h.name not in OPTIONAL
    ]


def section(bench: Run) -> list[str]:
    found = bench.result("coldstart", ColdStarts)
    if found is None:
        return []
    base = found.baseline
    body = [
        [
            c.name,
            str(len(c.wall)),
            f"{c.median_wall * 1000:.0f}",
            f"{c.median_cpu * 1000:.0f}",
            f"{c.median_wall / base.median_wall:.2f}x",
            f"{c.median_cpu / base.median_cpu:.2f}x",
        ]
        for c in [base, *found.handlers]
    ]
    return [
        "Import-and-init of each handler module (`import i2v.handlers.<name>`, which validates the environment and "
        "builds the service; boto3 clients are created lazily on first use) in fresh interpreters with dummy "
        "environment values and `LAMBDA_TASK_ROOT` set (so the X-Ray SDK takes its Lambda path), timed inside the "
        "process; interpreter start-up is excluded. The functions run as deployed by default: Lambda's active "
        "tracing without the X-Ray SDK (`xray_sdk_tracing` false, `POWERTOOLS_TRACE_DISABLED`); the row "
        f"'{SDK_TRACED}' has the SDK's subsegments switched on. Each handler module pauses the garbage collector "
        "until it is initialised (`i2v.handlers.init_phase`); the baseline does not. The last row gives a bare "
        f"boto3 function the same pause{_against_paused(found)}. Baseline: `import boto3; boto3.client('s3')`. Samples are "
        "interleaved; medians shown. CPU time is shown beside wall time because wall time on a shared 2-core "
        "machine includes waiting for the CPU.",
        "",
        md_table(["module", "samples", "wall median (ms)", "CPU median (ms)", "wall ratio", "CPU ratio"], body),
        "",
    ]


def _against_paused(found: ColdStarts) -> str:
    paused = next((c for c in found.handlers if c.name == PAUSED_BASELINE), None)
    submit = next((c for c in found.handlers if c.name == "submit"), None)
    if paused is None or submit is None:
        return ""
    return f": against it, submit takes {submit.median_cpu / paused.median_cpu:.2f}x the CPU time"


def readme(bench: Run) -> list[str]:
    found = bench.result("coldstart", ColdStarts)
    if found is None or not found.handlers:
        return []
    ratios = [h.median_cpu / found.baseline.median_cpu for h in found.handlers if h.name not in OPTIONAL]
    return [
        f"- **Cold start**: handler import and init take {min(ratios):.2f}-{max(ratios):.2f}x the CPU time of a "
        "bare `import boto3` plus one client.",
    ]


BENCHMARK = Benchmark("coldstart", "cold start", "Cold start", measure, rows, section, readme=readme)
