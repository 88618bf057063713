"""`python -m benchmarks [--quick] [--output docs/benchmarks.md]`: run the five benchmarks, print one summary
table (ours vs baselines, with ratios) and write the results page."""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny inputs (seconds): for the smoke tests")
    parser.add_argument(
        "--output", default=None, help="write the Markdown results here (make bench: docs/benchmarks.md)"
    )
    parser.add_argument(
        "--only", action="append", choices=report.BENCHMARKS, help="run only these benchmarks (repeatable)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = report.run_all(quick=args.quick, only=tuple(args.only or report.BENCHMARKS), log=_log)
    results.total_seconds = time.perf_counter() - started
    results.command = "make bench" if not args.quick else "python -m benchmarks --quick"
    print(report.summary_table(results))
    if args.output:
        report.write_markdown(results, args.output)
        _log(f"wrote {args.output}")
    return 0


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
