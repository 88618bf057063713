"""Step Functions: starts the polling workflow (the execution name makes a second start of the same attempt a
no-op), and answers the Watch state's task token."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v.domain.sweep import Execution


class WorkflowStarter:
    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        """True if this call started it, False if an execution of that name already exists."""
        try:
            client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(execution_input)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True


class Executions:
    """DescribeExecution of the workflow's executions by name (the sweeper)."""

    def __init__(self, state_machine_arn: str) -> None:
        # arn:aws:states:REGION:ACCOUNT:stateMachine:NAME -> arn:aws:states:REGION:ACCOUNT:execution:NAME:
        self._prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"

    def describe(self, name: str) -> Execution | None:
        try:
            found = client("stepfunctions").describe_execution(executionArn=self._prefix + name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        stopped = found.get("stopDate")
        return Execution(
            status=str(found["status"]),
            stopped_at=stopped.timestamp() if stopped is not None else None,
            error=found.get("error"),
        )


# What Step Functions answers for a token whose task is no longer waiting (answered, timed out, execution ended).
CLOSED_TASK_ERRORS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


class TaskTokens:
    """Answers the Watch state's task token (SendTaskHeartbeat / SendTaskSuccess)."""

    def heartbeat(self, token: str) -> bool:
        return self._call("send_task_heartbeat", taskToken=token)

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        return self._call("send_task_success", taskToken=token, output=json.dumps(output))

    @staticmethod
    def _call(operation: str, **arguments: str) -> bool:
        try:
            getattr(client("stepfunctions"), operation)(**arguments)
        except ClientError as error:
            if error.response["Error"]["Code"] in CLOSED_TASK_ERRORS:
                return False
            # botocore's message names the operation and the error code, never the token.
            raise
        return True
