#!/usr/bin/env python3
"""CDK app entry point (cdk.json: `"app": ".venv/bin/python infrastructure/app.py"`).

It uses the construct package exactly as another team's app would (`pip install packages/i2v-pipeline-cdk`;
here `make install` has it importable): the cdk.json `i2v` object becomes the stack's `PipelineConfig`.
"""

from __future__ import annotations

import os
import sys

# jsii prints an 11-line "Node 20 is end-of-life" box (as b'...' lines) on every synth; the README states the
# Node versions we support, so `npx cdk ...` run by hand stays as quiet as `make synth` (which sets the same).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk

from i2v_pipeline_cdk import BundlingError, ConfigError, create_stack


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
