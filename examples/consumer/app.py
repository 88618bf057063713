#!/usr/bin/env python3
"""Example consumer app: the pipeline plus two subscribers, each wired in one line.

- every finished video -> a Lambda function typed with the `i2v-events` package (Powertools Parser);
- failures that need a human (failed, timed_out, submit_ambiguous) -> an SQS queue.

It imports the construct package as any app would (`pip install packages/i2v-pipeline-cdk`; `make install` has it
importable). Synthesize from the repository root after `make install`:

    npx cdk synth --app ".venv/bin/python examples/consumer/app.py"

The test suite synthesizes it and checks it with cdk-nag (tests/subscribers/test_example_consumer.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from i2v_pipeline_cdk import (
    ImageToVideoPipeline,
    PipelineConfig,
    PipelineFunction,
    acknowledge,
    acknowledge_stack_findings,
    add_checks,
    retention_days,
    subscriber_code,
)

HERE = Path(__file__).resolve().parent


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="i2v pipeline with example subscribers", **kwargs)
        config = PipelineConfig(stack_name=construct_id)
        pipeline = ImageToVideoPipeline(self, "Pipeline", config=config)

        dead_letters = sqs.Queue(self, "SubscriberDeadLetters", enforce_ssl=True, retention_period=Duration.days(14))
        acknowledge(
            dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the example subscribers (rule targets and the function's "
            "asynchronous invocations); it has no DLQ of its own.",
        )
        acknowledge(dead_letters, "Serverless-SQSRedrivePolicy", "This queue is itself the subscribers' DLQ (above).")
        notify = PipelineFunction(
            self,
            "Notify",
            # The handler, the typed i2v_events package and pydantic/Powertools for arm64, bundled without Docker.
            code=subscriber_code({"notify.py": HERE / "functions" / "notify.py"}),
            handler="notify.handler",
            description="example subscriber: a video is ready",
            memory_size=256,
            timeout=Duration.seconds(10),
            environment={"POWERTOOLS_SERVICE_NAME": "i2v-consumer"},
            log_retention=retention_days(config.log_retention_days),
            dead_letter_queue=dead_letters,
        )
        needs_a_human = sqs.Queue(
            self,
            "NeedsAHuman",
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5),
        )

        # The two lines this example is about:
        pipeline.on_video_ready(targets.LambdaFunction(notify.function, dead_letter_queue=dead_letters))
        pipeline.on_video_failed(
            targets.SqsQueue(needs_a_human, dead_letter_queue=dead_letters),
            statuses=["failed", "timed_out", "submit_ambiguous"],
        )
        acknowledge_stack_findings(self)  # the CDK-owned helpers the pipeline brings (S3 notifications handler)


def build(app: cdk.App) -> cdk.Stack:
    add_checks(app)
    return ConsumerStack(app, "I2vConsumerExample")


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
