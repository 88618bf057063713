"""AWS CDK infrastructure of the image-to-video pipeline (synth time only)."""

import os

# jsii prints a large end-of-life banner on Node 20 when aws_cdk is first imported; silence it here,
# before any module of this package imports aws_cdk (the Makefile exports the same variables).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from i2v_infra.config import ConfigError, PipelineConfig

__all__ = ["ConfigError", "PipelineConfig"]
