"""`python -m benchmarks [--quick] [--output docs/benchmarks.md]`: run the benchmarks (benchmarks/registry.py),
print one summary table (ours vs baselines, with ratios) and write the results page."""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import report
from benchmarks.registry import BENCHMARKS


def main(argv: list[str] | None = None) -> int:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny inputs (seconds): for the smoke tests")
    parser.add_argument(
        "--output", default=None, help="write the Markdown results here (make bench: docs/benchmarks.md)"
    )
    parser.add_argument(
        "--readme", default=None, help="rewrite the performance section of this README (make bench: README.md)"
    )
    parser.add_argument(
        "--only", action="append", choices=names, help="run only these benchmarks and what they need (repeatable)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    run = report.run_all(BENCHMARKS, quick=args.quick, only=args.only or names, log=_log)
    run.total_seconds = time.perf_counter() - started
    run.command = "make bench" if not args.quick else "python -m benchmarks --quick"
    print(report.summary_table(run, BENCHMARKS))
    if args.output:
        report.write_markdown(run, BENCHMARKS, args.output)
        _log(f"wrote {args.output}")
    if args.readme:
        report.write_readme(run, BENCHMARKS, args.readme)
        _log(f"rewrote the performance section of {args.readme}")
    return 0


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
