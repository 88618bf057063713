"""Records every AWS call the pipeline's function code makes, attributed to the function being invoked.

    recorder = CallRecorder(stack, names, HANDLERS, code_dir)
    stack.router.before_invoke.append(recorder.before); stack.router.after_invoke.append(recorder.after)
    # route BaseClient._make_api_call (and presigning) through recorder.record(service, operation, params)
    recorder.performed  # function -> {(IAM action, resource name)}

Invocations are serialized (one at a time) so each call belongs to exactly one function; only calls made from
code under `code_dir` (or s3transfer, which uploads on its behalf) count. Each call is mapped to the IAM
action(s) it is authorized as (`iam_actions`), and its resource to a stable name via `names`.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from typing import Any

from aws_lambda_powertools.utilities import parameters

from i2v_local.stack import FunctionSpec, Invocation, LocalStack

Grant = tuple[str, str]  # (IAM action, resource name)


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The IAM action(s) one API call is authorized as, each with the parameters naming its resource."""
    if service == "s3":
        if operation in ("HeadObject", "GetObject"):
            return [("s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject", params)]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", params)]
        if operation in ("ListObjects", "ListObjectsV2"):
            return [("s3:ListBucket", params)]
        if operation == "ListParts":
            return [("s3:ListMultipartUploadParts", params)]
        return [(f"s3:{operation}", params)]
    if service == "dynamodb" and operation == "TransactWriteItems":
        verbs = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        return [(f"dynamodb:{verbs[kind]}", body) for item in params["TransactItems"] for kind, body in item.items()]
    if service == "sqs" and operation == "SendMessageBatch":
        return [("sqs:SendMessage", params)]  # SQS authorizes a batch as its single action (AWS SQS API reference)
    prefix = {"stepfunctions": "states"}.get(service, service)
    return [(f"{prefix}:{operation}", params)]


class CallRecorder:
    """Runs invocations one at a time and attributes every AWS call made by function code to the function."""

    def __init__(
        self,
        stack: LocalStack,
        names: dict[str, str],
        handlers: dict[str, str],
        code_dir: str,
        *,
        task_token_issuer: str | None = None,
    ) -> None:
        self.names = names  # physical name/ARN/URL -> resource name
        # Resource name of the state machine whose executions issue the task tokens SendTask* answer: IAM
        # authorizes those calls on it, and the opaque token does not name it.
        self.task_token_issuer = task_token_issuer
        self.code_dir = code_dir
        self.performed: dict[str, set[Grant]] = defaultdict(set)
        self._current: str | None = None
        self._gate = threading.Lock()
        # Threads alive before the invocation began, other than its own: an earlier stack's invocation that the
        # local stack abandoned at its timeout (aws_faults) may still run, with that stack's names.
        self._older_threads: frozenset[int | None] = frozenset()
        self._function_of = {
            spec.name: fn for spec in stack.functions.values() for fn, h in handlers.items() if spec.handler == h
        }

    def before(self, spec: FunctionSpec, event: Any) -> None:
        assert self._gate.acquire(timeout=120), "an invocation did not finish within 120 s"
        self._current = self._function_of.get(spec.name)
        invoker = threading.get_ident()
        self._older_threads = frozenset(t.ident for t in threading.enumerate() if t.ident != invoker)
        # In AWS each function has its own process: no secret cached by another function's invocation.
        parameters.clear_caches()

    def after(self, spec: FunctionSpec, event: Any, result: Invocation) -> None:
        self._current = None
        self._gate.release()

    def _from_function_code(self) -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(self.code_dir) or "/s3transfer/" in filename:
                return True
            frame = frame.f_back  # type: ignore[assignment]
        return False

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = self._current
        if function is None or threading.get_ident() in self._older_threads or not self._from_function_code():
            return
        for action, resource_params in iam_actions(service, operation, params):
            self.performed[function].add((action, self.resource_of(service, resource_params)))

    def resource_of(self, service: str, params: dict[str, Any]) -> str:
        def name(value: str) -> str:
            return self.names.get(value, f"<unknown {value}>")

        if service == "s3":
            bucket = name(params["Bucket"])
            return f"{bucket}/{params['Key']}" if "Key" in params else bucket
        if service == "dynamodb":
            table = name(params["TableName"])
            return f"{table}/index/{params['IndexName']}" if params.get("IndexName") else table
        if service == "events":
            (bus,) = {entry.get("EventBusName", "default") for entry in params["Entries"]}
            return name(bus)
        if service == "stepfunctions" and "taskToken" in params and self.task_token_issuer is not None:
            return self.task_token_issuer
        if service == "stepfunctions" and "executionArn" in params:
            # arn:aws:states:R:A:execution:MACHINE:NAME, named as the template renders its executions' ARN.
            machine, _, execution = params["executionArn"].split(":execution:", 1)[1].partition(":")
            state_machine = name(params["executionArn"].split(":execution:")[0] + ":stateMachine:" + machine)
            return f"arn:AWS::Partition:states:AWS::Region:AWS::AccountId:execution:{state_machine}:{execution}"
        for key in ("stateMachineArn", "QueueUrl", "SecretId"):
            if key in params:
                return name(params[key])
        return f"<unknown resource of {service}>"
