"""Scenario 10 (deployment variant): the API key secret is still empty, as CDK creates it. Jobs fail with a
clear reason before anything is sent; none is left `submit_ambiguous`, and `i2v retry` recovers them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.base import clear_caches

from i2v.adapters.queue import SubmitQueue
from i2v.services.retry import retry_job
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import FAILED, posts

pytestmark = pytest.mark.xdist_group(__name__)


def _set_secret(stack: LocalStack, value: dict[str, str]) -> None:
    secret_id = stack.outputs["GmiApiKeySecretArn"]
    stack.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))
    clear_caches()  # type: ignore[no-untyped-call]  # the functions cache the key for five minutes


def test_s10_empty_api_key_secret_fails_the_job_before_any_post(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = leak_guard.watch(local_stack)
    secrets = local_stack.client("secretsmanager")
    configured = json.loads(
        secrets.get_secret_value(SecretId=local_stack.outputs["GmiApiKeySecretArn"])["SecretString"]
    )
    _set_secret(local_stack, {"api_key": "", "unset_placeholder": "x7Qp"})
    job_id = pipeline.upload("incoming/keyless/cat.png")
    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == "gmi_unauthorized"
    assert "put-secret-value" in job.failure.message
    assert [e["detail"]["failure"]["category"] for e in tap.of_type(FAILED)] == ["gmi_unauthorized"]
    assert posts(local_gmi) == []

    _set_secret(local_stack, configured)  # the operator sets the key, then retries
    retry_job(pipeline.repo, SubmitQueue(local_stack.outputs["SubmitQueueUrl"]), job_id, confirm_ambiguous=False)
    local_stack.run_until_idle(timeout=30)
    assert pipeline.job(job_id).status == "succeeded"
    assert len(posts(local_gmi)) == 1
