"""The submit function's SQS partial batch response (handlers/sqs_batch.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from i2v.handlers.sqs_batch import BatchFailedError, partial_batch_response

SECRET = "sk-test-SHOULD-NOT-LEAK"
LOGGER = logging.getLogger("test_sqs_batch")


def _event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{i}", "body": body} for i, body in enumerate(bodies)]}


def _handle(record: Mapping[str, Any]) -> None:
    if record["body"] == "bad":
        raise ValueError(f"cannot use {SECRET}")


def test_only_the_failed_records_are_reported() -> None:
    assert partial_batch_response(_event("ok", "bad", "ok", "bad"), _handle, LOGGER) == {
        "batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]
    }


def test_a_batch_that_all_succeeds_reports_nothing() -> None:
    assert partial_batch_response(_event("ok", "ok"), _handle, LOGGER) == {"batchItemFailures": []}
    assert partial_batch_response({"Records": []}, _handle, LOGGER) == {"batchItemFailures": []}


def test_a_batch_that_all_fails_fails_the_invocation_without_the_messages(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(BatchFailedError) as failed:
        partial_batch_response(_event("bad", "bad"), _handle, LOGGER)

    assert str(failed.value) == "all 2 records failed: ValueError, ValueError"
    assert [(r.getMessage(), r.__dict__["message_id"], r.__dict__["error"]) for r in caplog.records] == [
        ("record failed", "m0", "ValueError"),
        ("record failed", "m1", "ValueError"),
    ]
    assert SECRET not in caplog.text


def test_the_submit_handler_imports_no_powertools_event_classes() -> None:
    """The reason sqs_batch.py exists (cold start): keep it true."""
    code = (
        "import sys, i2v.handlers.submit;"
        "print([m for m in sys.modules if 'data_classes' in m or 'utilities.batch' in m])"
    )
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    from benchmarks.coldstart import _environment

    output = subprocess.run(
        [sys.executable, "-c", code], env=_environment(), capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
