"""Scenario 25: logs, records, events (and execution histories) never contain the API key or a presigned
signature. The check itself runs after every scenario (the autouse `leak_guard` in conftest.py); these tests
show that it would fail on a real leak, and that redacted text passes."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import pytest

from i2v.adapters import gmi
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from support.leaks import assert_no_secrets

pytestmark = pytest.mark.xdist_group("local")

SIGNED_URL = (
    "https://in.s3.amazonaws.com/incoming/a.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIAEXAMPLE%2F20250620%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
)


def _leaks(text: Any, key: str) -> bool:
    try:
        assert_no_secrets([text], [key])
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize(
    "leaking",
    [
        "plain {key} in a message",
        "Authorization: Bearer {key}",
        "url-encoded: key%3D{key_quoted}",
        '{{"detail": {{"image_url": "' + SIGNED_URL + '"}}}}',
        "only the signature: X-Amz-Signature=abcdef0123456789",
        "a GCS video URL: https://storage.googleapis.com/v.mp4?X-Goog-Signature=0a1b2c3d",
    ],
)
def test_s25_scan_flags_each_kind_of_leak(scenario_api_key: str, leaking: str) -> None:
    text = leaking.format(key=scenario_api_key, key_quoted=quote(scenario_api_key, safe=""))
    assert _leaks(text, scenario_api_key)


@pytest.mark.parametrize(
    "clean",
    [
        "Authorization: Bearer [REDACTED]",
        "https://in.s3.amazonaws.com/incoming/a.png?[REDACTED]",
        "X-Amz-Signature=[REDACTED]&X-Amz-Credential=[REDACTED]",
        "GMI answered 401: missing or invalid API key (expected Authorization: Bearer <key>)",
    ],
)
def test_s25_scan_passes_redacted_text(scenario_api_key: str, clean: str) -> None:
    assert not _leaks(clean, scenario_api_key)


def test_s25_guard_fails_on_a_leak_in_any_channel(leak_guard: Any, scenario_api_key: str) -> None:
    channels = {
        "stdout/stderr": lambda: print(f'{{"message": "calling GMI with {scenario_api_key}"}}'),
        "log record": lambda: logging.getLogger("scenario.third_party").warning("GET %s", SIGNED_URL),
        "dynamodb item": lambda: leak_guard.collected.append(("dynamodb item", {"failure": {"S": scenario_api_key}})),
        "event": lambda: leak_guard.collected.append(("event", {"detail": {"image_url": SIGNED_URL}})),
    }
    for channel, leak in channels.items():
        leak_guard.discard()
        leak_guard.check()  # clean before
        leak()
        with pytest.raises(AssertionError, match="secret leak") as found:
            leak_guard.check()
        assert f"in {channel}:" in str(found.value)
        leak_guard.discard()


def test_s25_guard_catches_a_real_leak_from_the_pipeline(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    scenario_api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the GMI client's redaction switched off, GMI echoing the key ends up in the job record: the guard
    finds it there. (With redaction on, the same run is clean: test_s10's 403 case.)"""
    monkeypatch.setattr(gmi, "redact", lambda text: text)
    local_gmi.inject("post_refused", count=1, status=403, message=f"the key {scenario_api_key} is not allowed")
    job_id = pipeline.upload("incoming/leaky.png")
    local_stack.run_until_idle(timeout=30)
    assert pipeline.job(job_id).status == "failed"

    leak_guard.collect_stack(local_stack)
    with pytest.raises(AssertionError, match="secret leak") as found:
        leak_guard.check()
    assert "dynamodb item" in str(found.value)
    assert scenario_api_key not in str(found.value)  # the report itself masks the secret

    # Clean up the deliberate leak so this test's own final scan passes.
    local_stack.client("dynamodb").delete_item(
        TableName=local_stack.outputs["JobsTableName"], Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}
    )
    leak_guard.discard()
