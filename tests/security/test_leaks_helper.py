"""The secrets-leak helper itself: it must find real leaks (in every kind of item) and pass clean data."""

from __future__ import annotations

import json
import logging

import pytest

from i2v.domain.redaction import redact
from support.leaks import SIGNATURE_MARKERS, assert_no_secrets, find_secrets

API_KEY = "gmi-test-key-7f3a9c1e5b"
SIGNED_URL = (
    "https://in.s3.us-east-1.amazonaws.com/incoming/cat.png?versionId=abc&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z"
    "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef"
)


def test_clean_items_pass() -> None:
    assert_no_secrets(
        ["job abc submitted", {"job_id": "abc", "status": "succeeded"}, b"bytes", ValueError("no secret")],
        secrets=[API_KEY],
    )


@pytest.mark.parametrize(
    "item",
    [
        f"Authorization: Bearer {API_KEY}",
        {"failure": {"message": f"GMI said: bad key {API_KEY}"}},
        {"pk": {"S": "JOB#1"}, "nested": {"L": [{"S": API_KEY}]}},
        f"key={API_KEY}".encode(),
        json.dumps({"detail": json.dumps({"key": API_KEY})}),
    ],
    ids=["log-line", "record", "dynamodb-item", "bytes", "double-encoded-json"],
)
def test_the_api_key_is_found_anywhere(item: object) -> None:
    with pytest.raises(AssertionError, match="secret #1"):
        assert_no_secrets([item], secrets=[API_KEY])


def test_url_encoded_and_json_escaped_secrets_are_found() -> None:
    key = 'k3y/with+odd"chars'
    assert find_secrets(["https://x/?k=k3y%2Fwith%2Bodd%22chars"], [key])
    assert find_secrets([{"k": key}], [key])  # json.dumps escapes the quote


def test_a_signed_url_is_a_leak_even_without_known_secrets() -> None:
    leaks = find_secrets([f"fetching {SIGNED_URL}"])
    kinds = {leak.kind for leak in leaks}
    assert {"marker X-Amz-Signature", "marker X-Amz-Credential", "marker Signature="} <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "https://storage.googleapis.com/b/v.mp4?X-Goog-Algorithm=GOOG4&X-Goog-Signature=deadbeef",
        "https://d111.cloudfront.net/v.mp4?Expires=1&Signature=abc~def&Key-Pair-Id=K1",
        "url=https%3A%2F%2Fb.s3.amazonaws.com%2Fk%3FX-Amz-Signature%3Dabc",  # URL-encoded inside a query
        "x-amz-security-token=FwoGZXIvYXdzE",  # case-insensitive
    ],
)
def test_other_signature_markers_are_found(text: str) -> None:
    with pytest.raises(AssertionError, match="marker"):
        assert_no_secrets([text])


def test_exceptions_are_scanned_with_their_cause_chain_and_attributes() -> None:
    class GmiError(Exception):
        def __init__(self, message: str, body: str) -> None:
            super().__init__(message)
            self.body = body

    def fails() -> None:
        try:
            raise RuntimeError(f"inner failure with {SIGNED_URL}")
        except RuntimeError as inner:
            raise ValueError("outer message is clean") from inner

    with pytest.raises(ValueError, match="clean") as raised:
        fails()
    assert find_secrets([raised.value]), "the cause's message must be scanned"
    assert find_secrets([GmiError("clean", body=f"Bearer {API_KEY}")], [API_KEY]), "attributes must be scanned"


def test_redacted_text_passes() -> None:
    """What i2v.domain.redaction produces is clean, including a marker kept with the placeholder value."""
    assert_no_secrets([redact(f"GET {SIGNED_URL} failed"), "X-Amz-Signature=[REDACTED]"], secrets=[API_KEY])


def test_the_failure_message_never_repeats_the_secret() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_no_secrets([f"oops {API_KEY} oops"], secrets=[API_KEY], what="logs")
    message = str(raised.value)
    assert API_KEY not in message
    assert "<secret #1>" in message
    assert "in logs" in message


def test_captured_log_records_can_be_checked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="leak-helper-test")
    logging.getLogger("leak-helper-test").info("presigned %s", SIGNED_URL)
    with pytest.raises(AssertionError):
        assert_no_secrets([caplog.text])


def test_markers_cover_the_issue_list() -> None:
    assert {"X-Amz-Signature", "X-Amz-Credential", "X-Goog-Signature", "Signature="} <= set(SIGNATURE_MARKERS)
