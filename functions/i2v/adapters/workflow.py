"""Starts the polling workflow; the execution name makes a second start of the same attempt a no-op."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from i2v.adapters.aws import client


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
