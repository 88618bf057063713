"""`make bench`: the pipeline measured against its anchors (docs/benchmarks.md). Run `python -m benchmarks --help`."""
