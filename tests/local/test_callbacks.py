"""The local stack's task-token grace (i2v_local.stack.callbacks), against moto's interpreter itself.

moto sends a callback task's SQS message before it sets up the task's heartbeat endpoint. A watch look that
heartbeats in that window read InvalidToken and stopped its chain (the soak's 198 s stall). Here the heartbeat
is sent from another thread while the interpreter is still inside SendMessage, so the window is hit every
time, whatever the machine's speed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sqs.models import SQSBackend

from i2v_local.stack.callbacks import tokens_valid_once_sent
from i2v_local.stack.stack import SFN_CONFIG

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/local"
# Long enough for an unpatched heartbeat to be answered while the interpreter still sends.
INSIDE_WINDOW_SECONDS = 1.0


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _definition(queue_url: str) -> str:
    watch = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 60,
        "HeartbeatSeconds": 30,
        "End": True,
    }
    return json.dumps({"StartAt": "Watch", "States": {"Watch": watch}})


def _heartbeat_while_sending(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Heartbeats each sent token from another thread while the interpreter is still inside SendMessage."""
    answers: dict[str, str] = {}
    sent = SQSBackend.send_message

    def heartbeat(token: str) -> None:
        try:
            _client("stepfunctions").send_task_heartbeat(taskToken=token)
            answers[token] = "ok"
        except ClientError as error:
            answers[token] = error.response["Error"]["Code"]

    def send_message(self: SQSBackend, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        look = threading.Thread(target=heartbeat, args=(json.loads(message_body)["token"],))
        look.start()
        look.join(INSIDE_WINDOW_SECONDS)
        return sent(self, queue_name, message_body, *args, **kwargs)

    monkeypatch.setattr(SQSBackend, "send_message", send_message)
    return answers


@pytest.mark.parametrize(
    ("grace", "answer"),
    [(tokens_valid_once_sent, "ok"), (nullcontext, "InvalidToken")],
    ids=["local-stack-grace", "moto-as-is-canary"],
)
def test_a_heartbeat_as_the_message_is_sent_finds_its_task(
    monkeypatch: pytest.MonkeyPatch, grace: Callable[[], AbstractContextManager[Any]], answer: str
) -> None:
    """With the grace the heartbeat finds the task; without it moto answers InvalidToken (the canary: if moto
    registers the task before sending, this case fails and the grace can go)."""
    with mock_aws(config=SFN_CONFIG), grace():
        queue_url = _client("sqs").create_queue(QueueName="watch")["QueueUrl"]
        sfn = _client("stepfunctions")
        machine = sfn.create_state_machine(name="watch", definition=_definition(queue_url), roleArn=ROLE)
        answers = _heartbeat_while_sending(monkeypatch)
        execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]

        token = _received_token(queue_url)
        monkeypatch.undo()
        _wait_for(lambda: token in answers)
        assert answers[token] == answer
        if answer == "ok":  # the task stayed open: answering it ends the execution
            sfn.send_task_success(taskToken=token, output='{"looked": true}')
            _wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED")
        else:
            sfn.stop_execution(executionArn=execution)


def _received_token(queue_url: str) -> str:
    for _ in range(100):
        messages = _client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])
        if messages:
            return str(json.loads(messages[0]["Body"])["token"])
        time.sleep(0.1)
    raise AssertionError("the Watch message never arrived")


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(100):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out after 10 s")
