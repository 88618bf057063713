"""`ImageToVideoPipeline` as a reusable construct in someone else's app, with their own bucket."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("cdk")


def _app_with_shared_bucket(input_prefix: str, output_prefix: str) -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Template

    from i2v_infra.config import PipelineConfig
    from i2v_infra.constructs import ImageToVideoPipeline
    from i2v_infra.nag import ACKNOWLEDGED

    before = len(ACKNOWLEDGED)
    app = cdk.App()
    stack = cdk.Stack(app, "TheirStack")
    media = s3.Bucket(stack, "Media", versioned=True, enforce_ssl=True)
    config = PipelineConfig(input_prefix=input_prefix, output_prefix=output_prefix, stack_name="TheirStack")
    try:
        pipeline = ImageToVideoPipeline(
            stack,
            "I2v",
            config=config,
            input_bucket=media,
            output_bucket=media,
            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        )
        return pipeline, Template.from_stack(stack)
    finally:
        del ACKNOWLEDGED[before:]  # the record of acknowledgments is the pipeline app's (test_infra_compliance)


def test_brings_its_own_bucket_and_code() -> None:
    pipeline, template = _app_with_shared_bucket("uploads/", "generated/")
    template.resource_count_is("AWS::S3::Bucket", 1)  # theirs: no pipeline buckets, no log bucket
    assert pipeline.storage.log_bucket is None
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 2)  # the submit queue's, the watch queue's
    from aws_cdk.assertions import Match

    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "QueueConfigurations": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Filter": {
                                    "Key": {
                                        "FilterRules": [
                                            {"Name": "suffix", "Value": ".jpg"},
                                            {"Name": "prefix", "Value": "uploads/"},
                                        ]
                                    }
                                }
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(("input_prefix", "output_prefix"), [("media/", "media/videos/"), ("in/", "in/")])
def test_shared_bucket_rejects_overlapping_prefixes(input_prefix: str, output_prefix: str) -> None:
    from i2v_infra.config import ConfigError

    with pytest.raises(ConfigError, match="must not overlap"):
        _app_with_shared_bucket(input_prefix, output_prefix)
