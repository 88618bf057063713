"""The local stack itself: moto canary, resources as the template says, Lambda errors, the SQS pump."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import FAST_POLL_POLICY, LocalSettings, LocalStack, LocalStackError
from i2v_local.stack.compat import moto_incompatibilities
from i2v_local.stack.driver import PipelineDriver, png_bytes
from i2v_local.stack.pump import SqsPump

pytestmark = pytest.mark.xdist_group(__name__)


def _pump_of(stack: LocalStack, logical_part: str) -> SqsPump:
    """The pump of the event source mapping that invokes the function named by `logical_part`."""
    (pump,) = [p for p in stack.pumps if p.source.function_name == stack.function(logical_part).name]
    return pump


def test_moto_internals_we_replace_are_unchanged() -> None:
    """Canary: LambdaFunction._invoke_lambda, _get_s3_event and the SFN Lambda error path of moto 5.2.5."""
    assert moto_incompatibilities() == []


def test_resources_follow_the_template(local_stack: LocalStack, cdk_template: dict[str, Any]) -> None:
    outputs = local_stack.outputs
    s3, sqs, ddb = local_stack.client("s3"), local_stack.client("sqs"), local_stack.client("dynamodb")
    assert s3.get_bucket_versioning(Bucket=outputs["InputBucketName"])["Status"] == "Enabled"
    rules = s3.get_bucket_notification_configuration(Bucket=outputs["InputBucketName"])["QueueConfigurations"]
    assert {r["Filter"]["Key"]["FilterRules"][0]["Value"] for r in rules} >= {".png", ".jpg"}
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=outputs["SubmitQueueUrl"], AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["maxReceiveCount"] == 5
    assert redrive["deadLetterTargetArn"].endswith(outputs["DeadLetterQueueUrl"].rsplit("/", 1)[1])
    table = ddb.describe_table(TableName=outputs["JobsTableName"])["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"by-source", "by-status", "by-time-class"}
    ttl = ddb.describe_time_to_live(TableName=outputs["JobsTableName"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    secret = local_stack.client("secretsmanager").get_secret_value(SecretId=outputs["GmiApiKeySecretArn"])
    assert json.loads(secret["SecretString"]) == {"api_key": "sim-key"}

    definition = local_stack.client("stepfunctions").describe_state_machine(stateMachineArn=outputs["StateMachineArn"])[
        "definition"
    ]
    states = json.loads(definition)["States"]
    tasks = [f for f in local_stack.functions.values() if "Submit" not in f.logical_id]
    # The watch function runs off its queue, the sweeper on its schedule, the previews function off a bus rule.
    arns = {f.arn for f in tasks if not any(name in f.logical_id for name in ("Watcher", "Sweeper", "Previews"))}
    watch_task = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert {state.get("Resource") for state in states.values()} - {None} == arns | {watch_task}

    handlers = sorted(f.handler for f in local_stack.functions.values())
    assert handlers == [
        f"i2v.handlers.{n}.handler" for n in ("complete", "fail", "poll", "previews", "submit", "sweeper", "watch")
    ]
    env = local_stack.function_environment()
    assert json.loads(env["POLL_POLICY"]) == FAST_POLL_POLICY
    assert env["ALLOW_PRIVATE_VIDEO_ADDRESSES"] == "true"
    assert env["STATE_MACHINE_ARN"] == outputs["StateMachineArn"]
    poll = local_stack.client("lambda").get_function_configuration(FunctionName=local_stack.function("Poll").name)
    assert poll["Environment"]["Variables"]["POLL_POLICY"] == env["POLL_POLICY"]
    submit, watch = _pump_of(local_stack, "Submit"), _pump_of(local_stack, "Watcher")
    assert len(local_stack.pumps) == 2
    assert submit.source.queue_url == outputs["SubmitQueueUrl"]
    assert (submit.source.batch_size, submit.source.max_concurrency) == (5, 2)
    assert submit.source.report_batch_item_failures
    # The Watch state sends to the queue the watch function reads and sends on to.
    assert states["Watch"]["Parameters"]["QueueUrl"] == watch.source.queue_url
    assert local_stack.function("Watcher").environment["WATCH_QUEUE_URL"] == watch.source.queue_url
    assert (watch.source.batch_size, watch.source.max_concurrency) == (10, 50)
    assert watch.source.report_batch_item_failures
    attributes = sqs.get_queue_attributes(QueueUrl=watch.source.queue_url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    assert int(attributes["VisibilityTimeout"]) == 6 * local_stack.function("Watcher").timeout_seconds


def test_handler_exception_is_a_lambda_function_error(local_stack: LocalStack) -> None:
    response = local_stack.client("lambda").invoke(
        FunctionName=local_stack.function("Poll").name, Payload=json.dumps({"job_id": "x"})
    )
    assert response.get("FunctionError")
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValidationError"
    assert "request_id" in payload["errorMessage"]


def test_s3_notifications_look_like_s3s(pipeline: PipelineDriver, local_stack: LocalStack) -> None:
    pipeline.upload("incoming/with space/ä.png")
    sqs = local_stack.client("sqs")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=local_stack.outputs["SubmitQueueUrl"], MaxNumberOfMessages=10)["Messages"]
    ]
    (record,) = [r for b in bodies for r in b.get("Records", [])]
    s3_object = record["s3"]["object"]
    assert s3_object["key"] == "incoming/with+space/%C3%A4.png"  # "/" kept, like S3
    assert s3_object["versionId"]
    assert len(s3_object["sequencer"]) == 18


def test_poison_message_is_dead_lettered_while_the_rest_of_the_batch_succeeds(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator
) -> None:
    stack = local_stack_factory(pump_visibility_timeout=0)  # failed messages come straight back
    pipeline = PipelineDriver(stack)
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.outputs["SubmitQueueUrl"], MessageBody="this is not an S3 event")
    job_id = pipeline.upload("incoming/good.png")

    stack.run_until_idle(timeout=30)

    assert pipeline.job(job_id).status == "succeeded"
    pump = _pump_of(stack, "Submit")
    assert pump.stats.failed == 5  # maxReceiveCount deliveries, then SQS moved it
    assert _pump_of(stack, "Watcher").stats.failed == 0  # the good job's looks
    dead = sqs.receive_message(QueueUrl=stack.outputs["DeadLetterQueueUrl"], MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["this is not an S3 event"]
    assert local_gmi.post_count == 1


def test_unknown_override_is_rejected_and_the_environment_restored(cdk_template: dict[str, Any]) -> None:
    before = dict(os.environ)
    stack = LocalStack(cdk_template, LocalSettings(environment={"NOT_A_TEMPLATE_VARIABLE": "1"}))
    with pytest.raises(LocalStackError, match="NOT_A_TEMPLATE_VARIABLE"):
        stack.start()
    assert dict(os.environ) == before


def test_server_mode_serves_other_clients_and_pumps_in_the_background(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator
) -> None:
    stack = local_stack_factory(mode="server")
    env = stack.client_env()
    other = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    pipeline = PipelineDriver(stack)
    other.put_object(Bucket=pipeline.input_bucket, Key="incoming/from-another-client.png", Body=png_bytes(shade=7))
    stack.start_background(interval=0.2)

    deadline = time.monotonic() + 30
    while not other.list_objects_v2(Bucket=pipeline.output_bucket).get("KeyCount"):
        assert time.monotonic() < deadline, "no video in the output bucket"
        time.sleep(0.2)
    assert local_gmi.post_count == 1
