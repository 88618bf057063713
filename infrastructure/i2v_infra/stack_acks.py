"""Acknowledgments for resources that CDK itself adds at stack level (not built by our constructs)."""

from __future__ import annotations

import aws_cdk as cdk

from i2v_infra.nag import acknowledge

# Singleton id used by aws-cdk-lib's S3 notifications (aws-s3/lib/notifications-resource).
BUCKET_NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


def acknowledge_stack_findings(stack: cdk.Stack) -> None:
    handler = stack.node.try_find_child(BUCKET_NOTIFICATIONS_HANDLER_ID)
    if handler is not None:
        acknowledge(
            handler,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's built-in BucketNotificationsHandler custom resource (it configures the S3 -> SQS "
            "notifications at deploy time) creates its role with this managed policy; the construct offers "
            "no way to replace it, and the policy only allows writing the handler's own logs.",
        )
