"""The deployable stack: one `ImageToVideoPipeline` plus the outputs the `i2v` CLI looks up."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.pipeline import ImageToVideoPipeline
from i2v_infra.stack_acks import acknowledge_stack_findings

#: Output keys are a contract with the CLI (cli/i2v_cli/target.py finds a deployed stack through them).
OUTPUT_KEYS = (
    "InputBucketName",
    "OutputBucketName",
    "JobsTableName",
    "EventBusName",
    "StateMachineArn",
    "SubmitQueueUrl",
    "DeadLetterQueueUrl",
    "GmiApiKeySecretArn",
    "InputPrefix",
    "OutputPrefix",
    "EndFramePrefix",
)


class ImageToVideoStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        code: lambda_.Code | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Event-driven image-to-video pipeline (S3 -> GMI Cloud pixverse -> S3)",
            **kwargs,
        )
        self.pipeline = pipeline = ImageToVideoPipeline(self, "Pipeline", config=config, code=code)
        values = {
            "InputBucketName": pipeline.storage.input_bucket.bucket_name,
            "OutputBucketName": pipeline.storage.output_bucket.bucket_name,
            "JobsTableName": pipeline.records.table.table_name,
            "EventBusName": pipeline.records.bus.event_bus_name,
            "StateMachineArn": pipeline.workflow.state_machine.state_machine_arn,
            "SubmitQueueUrl": pipeline.ingestion.queue.queue_url,
            "DeadLetterQueueUrl": pipeline.ingestion.dead_letter_queue.queue_url,
            "GmiApiKeySecretArn": pipeline.records.api_key_secret.secret_arn,
            "InputPrefix": config.input_prefix,
            "OutputPrefix": config.output_prefix,
            "EndFramePrefix": config.end_frame_prefix,
        }
        for key in OUTPUT_KEYS:
            cdk.CfnOutput(self, key, value=values[key])
        if pipeline.monitoring.dashboard is not None:
            cdk.CfnOutput(
                self,
                "DashboardName",
                value=pipeline.monitoring.dashboard.dashboard_name,
                description="CloudWatch dashboard of the pipeline",
            )
        acknowledge_stack_findings(self)
