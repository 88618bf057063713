"""Scenario 23: a malformed SQS body fails only its own record; after maxReceiveCount receives SQS moves it to
the DLQ while the rest of the batch goes through. (A plain non-JSON body is also in
tests/local/test_local_stack.py::test_poison_message_is_dead_lettered_while_the_rest_of_the_batch_succeeds.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import dead_letters, send, take_notifications, with_object
from support.watch_queue import submit_pump

pytestmark = pytest.mark.xdist_group(__name__)


def test_s23_each_malformed_body_is_dead_lettered_alone(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack_factory(pump_visibility_timeout=0)  # failed messages come straight back
    pipeline = PipelineDriver(stack)
    job_id = pipeline.upload("incoming/poison/good.png")
    (good,) = take_notifications(stack)
    s3_record = json.loads(good)["Records"][0]
    poison = [
        "not json at all {",
        "[1, 2, 3]",
        json.dumps({"hello": "world"}),
        json.dumps({"Records": []}),
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "eventSource": "aws:s3"}]}),
        json.dumps({"Records": [{**s3_record, "s3": {"bucket": s3_record["s3"]["bucket"]}}]}),
        with_object(good, key="incoming/%FF%FE.png"),  # not UTF-8 once decoded
        json.dumps({"kind": "resume", "job_id": "0" * 32}),  # a command for a job that does not exist
    ]
    # The good notification travels in the same batches as the poison.
    send(stack, poison[0], good, *poison[1:])

    stack.run_until_idle(timeout=30)

    assert pipeline.job(job_id).status == "succeeded"
    assert local_gmi.post_count == 1
    pump = submit_pump(stack)
    redrive = json.loads(
        stack.client("sqs").get_queue_attributes(
            QueueUrl=stack.outputs["SubmitQueueUrl"], AttributeNames=["RedrivePolicy"]
        )["Attributes"]["RedrivePolicy"]
    )
    assert pump.stats.failed == redrive["maxReceiveCount"] * len(poison)
    assert sorted(dead_letters(stack)) == sorted(poison)
    assert stack.queued_messages() == 0
