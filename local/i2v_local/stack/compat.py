"""The moto internals the local stack replaces, checked at start and by the canary test, and the one AWS rule
moto's Step Functions interpreter gets wrong (aws_error_rules).

moto is pinned (pyproject: moto==5.2.5). If an upgrade changes one of these private functions the
local stack refuses to start instead of silently running Lambdas in Docker or dropping S3 fields.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib.metadata import version
from typing import Any
from unittest import mock

from moto.awslambda.models import LambdaFunction
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.s3 import notifications
from moto.sqs.models import SQSBackend
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

MOTO_VERSION = "5.2.5"
EXPECTED: dict[str, tuple[Callable[..., Any], str]] = {
    "moto.awslambda.models.LambdaFunction._invoke_lambda": (
        LambdaFunction._invoke_lambda,
        "(self, event: str | None = None) -> tuple[str, bool, str]",
    ),
    "moto.s3.notifications._get_s3_event": (
        notifications._get_s3_event,
        "(event_name: str, bucket: FakeBucket, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]",
    ),
    # Step Functions turns a Lambda FunctionError into an error named by the payload's errorType here.
    "moto...state_task.lambda_eval_utils.execute_lambda_function_integration": (
        lambda_eval_utils.execute_lambda_function_integration,
        "(env: Environment, parameters: dict, region: str, state_credentials: StateCredentials) -> None",
    ),
    # Where every model instance is tracked until reset (moto_tracking leaves DynamoDB's untracked).
    "moto.core.common_models.BaseModel.__new__": (BaseModel.__new__, "(cls, *args: Any, **kwargs: Any) -> BaseModel"),
    # Deep-copies each table it touches as its backup (dynamodb_isolation backs up the named items instead).
    "moto.dynamodb.models.DynamoDBBackend.transact_write_items": (
        DynamoDBBackend.transact_write_items,
        "(self, transact_items: list[dict[str, Any]]) -> None",
    ),
    # Reads the retention period through get_queue_attributes per message received (sqs_retention).
    "moto.sqs.models.SQSBackend.is_message_valid_based_on_retention_period": (
        SQSBackend.is_message_valid_based_on_retention_period,
        "(self, queue_name: str, message: Message) -> bool",
    ),
    # Every Retry's and Catch's ErrorEquals is matched here (aws_error_rules).
    "moto...error_name.error_equals_decl.ErrorEqualsDecl._eval_body": (
        ErrorEqualsDecl._eval_body,
        "(self, env: Environment) -> None",
    ),
}

# AWS (Step Functions, "Error handling", States.ALL): "The States.ALL error type ... can't catch the
# States.DataLimitExceeded terminal error type and runtime error types." moto's interpreter lets States.ALL
# match them, so an execution AWS would fail (say a path its input lacks: States.Runtime) ends in a Catch.
NOT_MATCHED_BY_STATES_ALL = frozenset({"States.Runtime", "States.DataLimitExceeded"})


def aws_error_rules() -> AbstractContextManager[Any]:
    """While the local stack runs: States.ALL in a Retry or Catch does not match States.Runtime or
    States.DataLimitExceeded (an ErrorEquals naming them does)."""
    original = ErrorEqualsDecl._eval_body

    def eval_body(self: ErrorEqualsDecl, env: Any) -> None:
        error = env.stack[-1]
        names = {name.error_name for name in self.error_names}
        if "States.ALL" in names and getattr(error, "error_name", None) in NOT_MATCHED_BY_STATES_ALL:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    patcher: AbstractContextManager[Any] = mock.patch.object(ErrorEqualsDecl, "_eval_body", eval_body)
    return patcher


# moto's Step Functions interpreter logs at ERROR every JSONPath it cannot find, also where AWS's own semantics make
# absence the normal answer (a Choice's IsPresent: `$.watch_error` on every job that never failed a Watch).
MOTO_SFN_LOGGER = "moto.stepfunctions.parser.asl.component.eval_component"


def _not_an_absent_path(record: logging.LogRecord) -> bool:
    return "Exception=NoSuchJsonPathError" not in record.getMessage()


def quiet_moto_logs() -> None:
    """Keep the test and demo output readable: werkzeug's line per request of the moto server (INFO), and moto's
    ERROR for a path that is merely absent (a path a state needs fails the execution: that is still logged)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sfn_logger = logging.getLogger(MOTO_SFN_LOGGER)
    if _not_an_absent_path not in sfn_logger.filters:
        sfn_logger.addFilter(_not_an_absent_path)


def normalized_signature(function: Callable[..., Any]) -> str:
    # Annotations may be strings or objects depending on the module: compare unqualified names only.
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", str(inspect.signature(function)).replace("'", ""))


def moto_incompatibilities() -> list[str]:
    problems = []
    installed = version("moto")
    if installed != MOTO_VERSION:
        problems.append(f"moto {installed} is installed; the local stack is written against {MOTO_VERSION}")
    for name, (function, expected) in EXPECTED.items():
        actual = normalized_signature(getattr(function, "__wrapped__", function))
        if actual != expected:
            problems.append(f"{name} changed: {actual} (expected {expected})")
    return problems
