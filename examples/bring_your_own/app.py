#!/usr/bin/env python3
"""Example: the pipeline in an account that already has its resources (docs/deploy.md, "Bring your own resources").

One of each: the team's image bucket (uploads under `incoming/` start jobs), its media bucket (videos, posters
and previews under `generated/i2v/`), its central event bus (our events, archive and rules on it) and its
customer managed KMS key (our table, queues and alarm topic under it). Each is a key of the pipeline's one
configuration model, the same keys as the `i2v` object of cdk.json:

    "input_bucket_name": "acme-images",
    "output_bucket_name": "acme-media", "output_prefix": "generated/i2v/",
    "event_bus_name": "acme-central",
    "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

Replace the names with yours (the key policy your key needs is in docs/deploy.md), then synthesize from the
repository root after `make install` (it imports the construct package as any app would:
`pip install packages/i2v-pipeline-cdk`):

    npx cdk synth --app ".venv/bin/python examples/bring_your_own/app.py"

The test suite synthesizes it and checks it with cdk-nag and cfn-lint (tests/infrastructure/test_infra_byo.py);
`make security` runs checkov over it. (The directory's name has underscores: mypy checks examples/ whole, and
`infrastructure/app.py` is already the module `app`.)
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from i2v_pipeline_cdk import ImageToVideoPipeline, PipelineConfig, acknowledge_stack_findings, add_checks

#: What this team brings: every other key keeps the pipeline's default.
THEIR_RESOURCES: dict[str, Any] = {
    "input_bucket_name": "acme-images",
    "output_bucket_name": "acme-media",
    "output_prefix": "generated/i2v/",
    "event_bus_name": "acme-central",
    "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


class BringYourOwnStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="i2v pipeline on the team's own resources", **kwargs)
        config = PipelineConfig.from_mapping({**THEIR_RESOURCES, "stack_name": construct_id})
        ImageToVideoPipeline(self, "Pipeline", config=config)
        acknowledge_stack_findings(self)  # the CDK-owned helpers the pipeline brings (S3 notifications handler)


def build(app: cdk.App) -> cdk.Stack:
    add_checks(app)
    return BringYourOwnStack(app, "I2vBringYourOwnExample")


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
