"""Benchmark 5: infrastructure cost per video (benchmarks.pricing) of the replayed jobs of benchmark 1, per
scenario, at 100 and 100,000 videos a month, against the fixed 60 s schedule on the same jobs; the stack's monthly
bill, idle and at both volumes (benchmarks.bill, benchmarks.bill_section); and the levers of issues 14 and 25
(benchmarks/levers.py). Measured in benchmarks.cost_measure, written up in benchmarks.cost_section; here its
summary rows, its README line and its registration."""

from __future__ import annotations

from benchmarks import bill_section, polling
from benchmarks.bill import month_total
from benchmarks.bill_volume import VOLUMES
from benchmarks.cost_measure import BURST_IN_FLIGHT_TARGET, HIGH, LOW, RATIO_TARGET, Costs, label, measure
from benchmarks.cost_section import section, spread
from benchmarks.mix import DEFAULT_SIGMA
from benchmarks.policy import SQS_DELIVERY_SECONDS
from benchmarks.prices import PRICES_DATE
from benchmarks.pricing import total
from benchmarks.pricing_model import KINDS
from benchmarks.report import Benchmark, Row, Run, mark, ratio


def rows(bench: Run) -> list[Row]:
    found = bench.result("cost", Costs)
    if found is None:
        return []
    out = []
    for videos in VOLUMES:
        for kind in KINDS:
            ours_total = total(found.lines[label(kind, videos)])
            base_total = total(found.lines[label(kind, videos, baseline=True)])
            out.append(
                Row(
                    f"{kind.name}: $ per video, every billed item, {videos:,} videos a month, steady, sigma "
                    f"{DEFAULT_SIGMA}",
                    f"{ours_total:.6f}",
                    f"{base_total:.6f} (fixed 60 s)",
                    ratio(ours_total, base_total),
                    f"<= {RATIO_TARGET:.1f}x",
                    mark(ours_total <= RATIO_TARGET * base_total),
                )
            )
    for sigma, models in found.per_model.items():
        worst = max(models, key=lambda m: models[m].ratio)
        ratios = [m.ratio for m in models.values()]
        slowest = max(models, key=lambda m: models[m].lag_p95)
        out.append(
            Row(
                f"each model alone: $ per video at {LOW:,} a month, steady, sigma {sigma}, worst ({worst}); lag p50 "
                f"/ p95 (s) worst {models[slowest].lag_p50:.1f} / {models[slowest].lag_p95:.1f} ({slowest})",
                f"{models[worst].ours:.6f}",
                f"{models[worst].fixed_60:.6f} (fixed 60 s)",
                f"{min(ratios):.2f}-{max(ratios):.2f}x",
                f"<= {RATIO_TARGET:.1f}x, lag met",
                mark(all(m.met for m in models.values())),
            )
        )
    for scenario in (s for s in found.scenarios if s.videos == LOW):
        lags = scenario.result.ours.summary()
        burst = scenario.result.scenario.startswith("bursts")
        in_flight = scenario.result.peak_in_flight >= BURST_IN_FLIGHT_TARGET or not burst
        out.append(
            Row(
                f"mix: $ per video at {LOW:,} a month, {scenario.result.label}; lag p50 / p95 (s) "
                f"{lags['lag_p50']:.1f} / {lags['lag_p95']:.1f}",
                f"{scenario.ours:.6f}",
                f"{scenario.fixed_60:.6f} (fixed 60 s)",
                ratio(scenario.ours, scenario.fixed_60),
                f"<= {RATIO_TARGET:.1f}x, lag met" + (f", >= {BURST_IN_FLIGHT_TARGET} in flight" if burst else ""),
                mark(scenario.ours <= RATIO_TARGET * scenario.fixed_60 and polling.lag_met(lags) and in_flight),
            )
        )
    busy = [s for s in found.scenarios if s.videos == HIGH]
    if busy:
        worst_busy = max(busy, key=lambda s: s.ours / s.fixed_60)
        out.append(
            Row(
                f"mix: $ per video at {HIGH:,} a month, every scenario and sigma; worst ({worst_busy.result.label}, "
                f"sigma {worst_busy.result.sigma})",
                f"{worst_busy.ours:.6f}",
                f"{worst_busy.fixed_60:.6f} (fixed 60 s)",
                spread([s.ours / s.fixed_60 for s in busy]) + "x",
                f"<= {RATIO_TARGET:.1f}x",
                mark(all(s.ours <= RATIO_TARGET * s.fixed_60 for s in busy)),
            )
        )
    return out + bill_section.rows(found.month, _per_video_totals(found))


def _per_video_totals(found: Costs) -> dict[int, tuple[float, float]]:
    """Videos a month -> (ours, the fixed 60 s schedule): $ per video of the steady mix (every class)."""
    steady = [s for s in found.scenarios if s.result.scenario.startswith("steady") and s.result.sigma == DEFAULT_SIGMA]
    return {s.videos: (s.ours, s.fixed_60) for s in steady}


def readme(bench: Run) -> list[str]:
    found = bench.result("cost", Costs)
    if found is None:
        return []
    kinds = [
        (kind, videos, total(found.lines[label(kind, videos)]), total(found.lines[label(kind, videos, baseline=True)]))
        for videos in VOLUMES
        for kind in KINDS
    ]
    ratios = [s.ours / s.fixed_60 for s in found.scenarios]
    model_ratios = [m.ratio for models in found.per_model.values() for m in models.values()]
    idle = month_total(found.month["idle"]) if "idle" in found.month else 0.0
    return [
        "- **Cost**: "
        + ", ".join(
            f"${ours:.5f} ({kind.name} at {videos:,} videos a month, {ours / base:.2f}x the fixed 60 s schedule)"
            for kind, videos, ours, base in kinds
        )
        + f" of AWS per video, every billed item, at us-east-1 list prices ({PRICES_DATE}, no free tier); over the "
        f"whole mix {spread(ratios)}x the fixed 60 s schedule's cost, with one job in flight, a steady stream and "
        f"bursts, at each spread ({spread(model_ratios)}x for each catalog model alone). Each look at GMI is a short "
        "invocation woken by a delayed SQS message, nothing is slept (SQS's delivery assumed "
        f"{SQS_DELIVERY_SECONDS:.0f} s, part of every wait). The idle stack costs ${idle:.2f} a month with the "
        "default configuration (itemized in docs/benchmarks.md; the dashboard is opt-in). GMI's generation price "
        "comes on top and dominates.",
    ]


BENCHMARK = Benchmark(
    "cost", "cost", "Cost per video", measure, rows, section, needs=("policy", "burst"), readme=readme
)
