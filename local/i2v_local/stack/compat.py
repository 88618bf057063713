"""The moto internals the local stack replaces, checked at start and by the canary test.

moto is pinned (pyproject: moto==5.2.5). If an upgrade changes one of these private functions the
local stack refuses to start instead of silently running Lambdas in Docker or dropping S3 fields.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.s3 import notifications
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
}


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
