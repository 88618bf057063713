"""What every benchmark shares: the Benchmark record, the run context, and the page and summary around the
benchmarks' own rows and sections. Benchmarks are listed (in page order) in benchmarks/registry.py."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    """One line of the summary table; the benchmark's column is filled in from its registration."""

    metric: str
    ours: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = ""
    met: str = "-"


@dataclass
class Run:
    """One `python -m benchmarks` run: each benchmark's result under its name, and what could not be measured."""

    quick: bool
    log: Callable[[str], None] = lambda message: None
    results: dict[str, object] = field(default_factory=dict)
    gaps: dict[str, str] = field(default_factory=dict)  # benchmark name -> why it has no result
    total_seconds: float = 0.0
    command: str = "make bench"
    started_at: str = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    load_before: str = ""

    def result(self, name: str, kind: type[T]) -> T | None:
        value = self.results.get(name)
        return value if isinstance(value, kind) else None

    def require(self, name: str, kind: type[T]) -> T:
        """Another benchmark's result this one is computed from (its `needs`)."""
        value = self.result(name, kind)
        if value is None:
            raise MissingInputError(f"needs the {name} benchmark, which has no result")
        return value


class MissingInputError(RuntimeError):
    """A benchmark that builds on another one's result found none."""


@dataclass(frozen=True)
class Benchmark:
    """A benchmark owns its measurement, its summary rows and its section of docs/benchmarks.md."""

    name: str  # for --only
    label: str  # summary table: "<number> <label>"
    heading: str  # page: "## <number>. <heading>"
    measure: Callable[[Run], object]  # the result, stored in Run.results[name]
    rows: Callable[[Run], list[Row]]  # [] when there is no result
    section: Callable[[Run], list[str]]  # Markdown lines under the heading
    needs: tuple[str, ...] = ()  # benchmarks whose results this one reads (run first, even if not asked for)
    readme: Callable[[Run], list[str]] = lambda run: []  # its bullets in the README's performance section


def selected(benchmarks: Sequence[Benchmark], only: Sequence[str]) -> list[Benchmark]:
    """The asked-for benchmarks and everything they need, in registry order."""
    by_name = {b.name: b for b in benchmarks}
    wanted: set[str] = set()
    pending = list(only)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(by_name[name].needs)
    return [b for b in benchmarks if b.name in wanted]


def run_all(benchmarks: Sequence[Benchmark], quick: bool, only: Sequence[str], log: Callable[[str], None]) -> Run:
    run = Run(quick=quick, log=log, load_before=_loadavg())
    for benchmark in selected(benchmarks, only):
        try:
            run.results[benchmark.name] = benchmark.measure(run)
        except Exception as error:  # reported as a gap, never as numbers
            run.gaps[benchmark.name] = f"{type(error).__name__}: {error}"
            log(f"{benchmark.name}: no result ({run.gaps[benchmark.name]})")
    return run


# ---- shared formatting --------------------------------------------------------------------------------------


def ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base else "-"


def mark(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


def md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


# ---- the summary table and the page ------------------------------------------------------------------------

HEADER = ["benchmark", "metric", "ours", "baseline", "ratio", "target", "met"]


def summary_rows(run: Run, benchmarks: Sequence[Benchmark]) -> list[list[str]]:
    out = []
    for number, benchmark in enumerate(benchmarks, start=1):
        if benchmark.name in run.results:
            for row in benchmark.rows(run):
                label = f"{number} {benchmark.label}"
                out.append([label, row.metric, row.ours, row.baseline, row.ratio, row.target, row.met])
    return out


def _gap_lines(run: Run) -> list[str]:
    return [f"GAP: {name}: {why}" for name, why in run.gaps.items()]


def summary_table(run: Run, benchmarks: Sequence[Benchmark]) -> str:
    table = [HEADER, *summary_rows(run, benchmarks)]
    widths = [max(len(row[column]) for row in table) for column in range(len(HEADER))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines + _gap_lines(run))


def markdown(run: Run, benchmarks: Sequence[Benchmark]) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks --output docs/benchmarks.md`); do not edit by hand. "
        "Benchmarks are measurements, not tests: `make test` only checks that this code runs on tiny inputs "
        "(`tests/bench/`).",
        "",
        f"- command: `{run.command}`, started {run.started_at}, took {run.total_seconds / 60:.1f} min",
        "- machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()),
        f"- load average when the run started: {run.load_before} (other work on the machine inflates wall times)",
        "",
        "## Summary",
        "",
        md_table(HEADER, summary_rows(run, benchmarks)),
        "",
    ]
    if run.gaps:
        parts += ["**Gaps:** " + "; ".join(f"{name}: {why}" for name, why in run.gaps.items()), ""]
    for number, benchmark in enumerate(benchmarks, start=1):
        if benchmark.name in run.results:
            parts += [f"## {number}. {benchmark.heading}", "", *benchmark.section(run)]
        elif benchmark.name in run.gaps:
            parts += [f"## {number}. {benchmark.heading}", "", f"Not measured: {run.gaps[benchmark.name]}", ""]
    return "\n".join(parts) + "\n"


def write_markdown(run: Run, benchmarks: Sequence[Benchmark], path: str) -> None:
    Path(path).write_text(markdown(run, benchmarks))


README_START = "<!-- make bench: start -->"
README_END = "<!-- make bench: end -->"


def readme_section(run: Run, benchmarks: Sequence[Benchmark]) -> str:
    bullets = [line for benchmark in benchmarks if benchmark.name in run.results for line in benchmark.readme(run)]
    return "\n".join(
        [
            README_START,
            f"Measured side by side by `make bench` ({run.started_at}, {run.total_seconds / 60:.0f} minutes on "
            f"{os.cpu_count()} cores; full tables, method, machine and prices in "
            "[docs/benchmarks.md](docs/benchmarks.md)):",
            "",
            *bullets,
            README_END,
        ]
    )


def write_readme(run: Run, benchmarks: Sequence[Benchmark], path: str) -> None:
    """Replace the README's generated performance section (between the markers) with this run's bullets."""
    text = Path(path).read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    Path(path).write_text(text[:start] + readme_section(run, benchmarks) + text[end:])


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
