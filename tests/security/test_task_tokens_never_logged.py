"""Task tokens never reach a log (issue 24, defect 8): a token lets whoever reads it complete its task. The state
machine logs no execution data (tests/infrastructure/test_infra_aws_semantics.py); here the watch function, in
the local stack, with real tokens from moto's interpreter: what it writes (JSON logs, log records, EMF), the
errors it returns, and the job item (which names a chain by a hash of its token) hold none, even when an AWS
call fails with the token in its message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.leak_guard import CapturingLeakGuard
from i2v.adapters.aws import client
from i2v.adapters.workflow import TaskTokens
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from support.leaks import assert_no_secrets

pytestmark = pytest.mark.xdist_group(__name__)


def _fail_once_quoting_the_token(operation: str) -> list[str]:
    """The first `operation` call fails with a ClientError whose message holds the token it was sent."""
    failed: list[str] = []

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if not failed:
            failed.append(params["taskToken"])
            message = f"Rate exceeded for task {params['taskToken']}"
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": message}}, operation)

    client("stepfunctions").meta.events.register(f"before-parameter-build.sfn.{operation}", refuse)
    return failed


def test_the_watch_function_writes_no_task_token(
    pipeline: PipelineDriver, local_stack: LocalStack, leak_guard: CapturingLeakGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens: list[str] = []
    heartbeat = TaskTokens.heartbeat

    def remember(self: TaskTokens, token: str) -> bool:
        tokens.append(token)
        return heartbeat(self, token)

    monkeypatch.setattr(TaskTokens, "heartbeat", remember)
    failed = _fail_once_quoting_the_token("SendTaskSuccess")
    job_id = pipeline.upload("incoming/security/token.png")

    local_stack.run_until_idle(timeout=60)

    assert pipeline.job(job_id).status == "succeeded"
    assert tokens
    assert failed == tokens[:1]  # the look that answered failed once, with the token in its error
    watch_calls = local_stack.router.calls("Watcher")
    assert watch_calls
    written = [
        leak_guard.output(),
        leak_guard.caplog.text if leak_guard.caplog else "",
        *(json.dumps(result.payload) for _, result in watch_calls),  # what each invocation returned
    ]
    items = local_stack.client("dynamodb").scan(TableName=local_stack.outputs["JobsTableName"])["Items"]
    assert_no_secrets([*written, items], sorted(set(tokens)), what="the watch function's output")
    assert any("watch_chain" in item for item in items)
