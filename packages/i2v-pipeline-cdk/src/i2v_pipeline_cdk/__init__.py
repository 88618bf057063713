"""The i2v image-to-video pipeline as an AWS CDK construct library.

    from i2v_pipeline_cdk import ImageToVideoPipeline, PipelineConfig

    ImageToVideoPipeline(self, "I2v", config=PipelineConfig(model_id="kling-v2-6"))
    ImageToVideoPipeline(self, "I2v", model_id="kling-v2-6", input_prefix="uploads/")  # the same, as keyword props

`PipelineConfig` is the one configuration model: its fields are the keys of the `i2v` object in the repository's
cdk.json, with the same defaults and checks. The wheel carries the Lambda code the construct deploys (the `i2v` and
`i2v_events` packages) and the construct's implementation (`i2v_infra`); import from here only.
"""

from i2v_infra.bundling import BundlingError, subscriber_code
from i2v_infra.config import ConfigError, PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction
from i2v_infra.constructs.pipeline import ImageToVideoPipeline, retention_days
from i2v_infra.nag import acknowledge, add_checks
from i2v_infra.stack import ImageToVideoStack
from i2v_infra.stack_acks import acknowledge_stack_findings
from i2v_infra.synth import create_stack

__all__ = [
    "BundlingError",
    "ConfigError",
    "ImageToVideoPipeline",
    "ImageToVideoStack",
    "PipelineConfig",
    "PipelineFunction",
    "acknowledge",
    "acknowledge_stack_findings",
    "add_checks",
    "create_stack",
    "retention_days",
    "subscriber_code",
]
