"""Every benchmark, in page order. Adding one: its module (measure, rows, section, a `BENCHMARK`) + one line here."""

from __future__ import annotations

from benchmarks import burst, coldstart, copy, cost, pacing, polling, previews
from benchmarks.report import Benchmark

BENCHMARKS: tuple[Benchmark, ...] = (
    polling.BENCHMARK,
    copy.BENCHMARK,
    coldstart.BENCHMARK,
    burst.BENCHMARK,
    cost.BENCHMARK,
    pacing.BENCHMARK,
    previews.BENCHMARK,
)
