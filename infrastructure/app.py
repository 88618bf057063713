#!/usr/bin/env python3
"""CDK app entry point (cdk.json: `"app": ".venv/bin/python infrastructure/app.py"`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii prints an 11-line "Node 20 is end-of-life" box (as b'...' lines) on every synth; the README states the
# Node versions we support, so `npx cdk ...` run by hand stays as quiet as `make synth` (which sets the same).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "functions")]

import aws_cdk as cdk  # noqa: E402

from i2v_infra.bundling import BundlingError  # noqa: E402
from i2v_infra.config import ConfigError  # noqa: E402
from i2v_infra.synth import create_stack  # noqa: E402


def main() -> int:
    app = cdk.App()
    try:
        create_stack(app, nag=True)
    except (ConfigError, BundlingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
