#!/usr/bin/env python3
"""Example consumer app: the pipeline plus two subscribers, each wired in one line.

- every finished video -> a Lambda function typed with the `i2v-events` package (Powertools Parser);
- failures that need a human (failed, timed_out, submit_ambiguous) -> an SQS queue.

Synthesize from the repository root after `make install`:

    npx cdk synth --app ".venv/bin/python examples/consumer/app.py"

The test suite synthesizes it and checks it with cdk-nag (tests/subscribers/test_example_consumer.py).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
for _path in (REPO / "infrastructure", REPO / "functions", REPO / "packages" / "i2v-events" / "src"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

import aws_cdk as cdk  # noqa: E402
from aws_cdk import Duration  # noqa: E402
from aws_cdk import aws_events_targets as targets  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk import aws_sqs as sqs  # noqa: E402
from constructs import Construct  # noqa: E402

from i2v_infra import lambda_deps  # noqa: E402
from i2v_infra.bundling import check_dependencies  # noqa: E402
from i2v_infra.config import PipelineConfig  # noqa: E402
from i2v_infra.constructs import ImageToVideoPipeline  # noqa: E402
from i2v_infra.constructs.functions import PipelineFunction  # noqa: E402
from i2v_infra.constructs.pipeline import retention_days  # noqa: E402
from i2v_infra.nag import acknowledge, add_checks  # noqa: E402
from i2v_infra.paths import BUILD_DIR  # noqa: E402
from i2v_infra.stack_acks import acknowledge_stack_findings  # noqa: E402

EVENTS_PACKAGE = REPO / "packages" / "i2v-events" / "src" / "i2v_events"


def consumer_code() -> lambda_.Code:
    """The subscriber's asset: its handler, the typed package and the pipeline's downloaded Lambda dependencies
    (pydantic, Powertools for arm64), assembled locally like the pipeline's own asset (no Docker)."""
    check_dependencies()
    sources = sorted([*EVENTS_PACKAGE.rglob("*.py"), *(HERE / "functions").glob("*.py")])
    digest = hashlib.sha256(lambda_deps.expected_stamp().encode())
    for path in sources:
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    target = BUILD_DIR / "example-consumer" / digest.hexdigest()[:24]
    if not target.is_dir():
        tmp = target.with_name(f".tmp-{uuid.uuid4().hex[:8]}")
        shutil.copytree(lambda_deps.DEPS_DIR, tmp, ignore=shutil.ignore_patterns("__pycache__", ".stamp"))
        shutil.copytree(EVENTS_PACKAGE, tmp / "i2v_events", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(HERE / "functions" / "notify.py", tmp / "notify.py")
        try:
            tmp.rename(target)
        except OSError:  # another synth built the same content first
            shutil.rmtree(tmp, ignore_errors=True)
    return lambda_.Code.from_asset(str(target))


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
            code=consumer_code(),
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
