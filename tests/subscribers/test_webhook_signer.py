"""The webhook signer: Standard Webhooks signatures (checked with the reference library), delivery outcomes,
and no secret in what it logs or raises."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import boto3
import pytest
from moto import mock_aws
from standardwebhooks import Webhook, WebhookVerificationError

from i2v.adapters.webhooks import read_secret
from i2v.domain.webhooks import InvalidSecretError, WebhookTarget, receiver, sign, signing_key, webhook_body
from i2v.services.webhooks import WebhookDeliveryError, WebhookService
from i2v_events import parse_webhook
from i2v_events.v1 import SucceededDetail
from support.leaks import assert_no_secrets, find_secrets

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
NOW = 1_767_225_600.0  # only the sign/verify round trip below uses the real clock (the library checks it)
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Video Generation Succeeded",
    "source": "i2v.pipeline",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "schema_version": "1",
        "job_id": "0123456789abcdef0123456789abcdef",
        "attempt": 1,
        "status": "succeeded",
        "source": {"bucket": "in", "key": "incoming/ñandú.png", "version_id": None},
        "model": "pixverse-v5.5-i2v",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "request_id": "r-1",
        "output": {"bucket": "out", "key": "videos/ñandú.mp4", "size": 10, "content_type": "video/mp4"},
    },
}


class RecordingPoster:
    def __init__(self, status: int = 204, error: Exception | None = None) -> None:
        self.status, self.error = status, error
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def post(self, url: str, body: str, headers: dict[str, str]) -> int:
        self.requests.append((url, body, headers))
        if self.error:
            raise self.error
        return self.status


def service(poster: RecordingPoster, clock: float = NOW) -> WebhookService:
    targets = {"crm": WebhookTarget(url="https://hooks.example.com/i2v?token=t0ps3cret", secret_arn="arn:secret")}
    return WebhookService(targets, read_secret=lambda _arn: SECRET, poster=poster, clock=lambda: clock)


def test_signature_verifies_with_the_standard_webhooks_library() -> None:
    import time

    request = sign(EVENT, signing_key(SECRET), time.time())
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "video.succeeded"
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.body.replace("ñandú", "nandu"), request.headers)
    other = "whsec_" + base64.b64encode(b"another-key-of-24-bytes!").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_body_is_standard_webhooks_shaped_and_parses_with_the_typed_package() -> None:
    body = webhook_body(EVENT)
    assert json.loads(body) == {"type": "video.succeeded", "timestamp": EVENT["time"], "data": EVENT["detail"]}
    assert isinstance(parse_webhook(body).data, SucceededDetail)


def test_retries_keep_the_id_and_take_a_new_timestamp() -> None:
    first, later = sign(EVENT, signing_key(SECRET), NOW), sign(EVENT, signing_key(SECRET), NOW + 120)
    assert first.headers["webhook-id"] == later.headers["webhook-id"] == f"msg_{EVENT['id']}"
    assert (first.headers["webhook-timestamp"], later.headers["webhook-timestamp"]) == ("1767225600", "1767225720")
    assert first.headers["webhook-signature"] != later.headers["webhook-signature"]


@pytest.mark.parametrize("secret", [SECRET, SECRET.removeprefix("whsec_"), SECRET.rstrip("=")])
def test_signing_key_accepts_the_usual_spellings(secret: str) -> None:
    assert signing_key(secret) == b"0123456789abcdef01234567"


@pytest.mark.parametrize("secret", ["not base64 at all!", "whsec_c2hvcnQ=", ""])
def test_a_bad_secret_fails_without_showing_it(secret: str) -> None:
    with pytest.raises(InvalidSecretError) as caught:
        signing_key(secret)
    assert_no_secrets([caught.value], secrets=[s for s in [secret, secret.removeprefix("whsec_")] if len(s) > 4])


def test_delivery_posts_the_signed_request() -> None:
    poster = RecordingPoster()
    assert service(poster).deliver({"webhook": "crm", "event": EVENT}) == 204
    ((url, body, headers),) = poster.requests
    assert url.startswith("https://hooks.example.com/i2v")
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"] == sign(EVENT, signing_key(SECRET), NOW).headers["webhook-signature"]
    assert body == webhook_body(EVENT)


@pytest.mark.parametrize(
    ("poster", "expected"),
    [
        (RecordingPoster(status=500), "webhook crm: https://hooks.example.com answered 500"),
        (RecordingPoster(status=301), "answered 301"),
        (RecordingPoster(error=ConnectionError("https://hooks.example.com: ReadTimeout")), "ReadTimeout"),
    ],
)
def test_a_failed_delivery_raises_naming_only_the_host(poster: RecordingPoster, expected: str) -> None:
    with pytest.raises(WebhookDeliveryError, match=expected) as caught:
        service(poster).deliver({"webhook": "crm", "event": EVENT})
    assert_no_secrets([caught.value], secrets=["t0ps3cret", SECRET, SECRET.removeprefix("whsec_")])


def test_an_unknown_webhook_is_an_error() -> None:
    with pytest.raises(WebhookDeliveryError, match="no webhook named 'other'"):
        service(RecordingPoster()).deliver({"webhook": "other", "event": EVENT})


def test_receiver_is_scheme_and_host_only() -> None:
    assert receiver("https://user@hooks.example.com:8443/p/a?token=x#f") == "https://hooks.example.com"


def test_secret_read_from_secrets_manager_is_redacted_from_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities.parameters.base import clear_caches

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # Lambda sets its region; a bare pytest run may not

    from i2v.domain.redaction import redact

    clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        arn = boto3.client("secretsmanager", "us-east-1").create_secret(Name="hook", SecretString=SECRET)["ARN"]
        with caplog.at_level(logging.INFO):
            value = read_secret(arn)
            logging.getLogger("i2v.test").info(redact(f"oops {value} and {value.removeprefix('whsec_')}"))
    clear_caches()  # type: ignore[no-untyped-call]
    assert value == SECRET
    assert_no_secrets([caplog.text], secrets=[SECRET, SECRET.removeprefix("whsec_")])


def test_the_leak_checks_flag_any_webhook_secret() -> None:
    # Even one the test does not know: the "whsec_" prefix alone is a leak in a log, event or record.
    (leak,) = find_secrets(['{"detail": {"note": "key whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"}}'])
    assert leak.kind == "marker whsec_"
    assert find_secrets(["whsec_[REDACTED]"]) == []
