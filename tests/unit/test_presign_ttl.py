"""Issue 10 item 6: the presigned image URL outlives GMI's queue (default = the job deadline), within 12 h."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from i2v.adapters.aws import reset_clients
from i2v.adapters.storage import SourceImages
from i2v.config import SubmitEnv
from i2v.domain.source import SourceObject

PROMPT = '{"prompt": "a calm sea"}'
ENV = {
    "JOBS_TABLE_NAME": "jobs",
    "EVENT_BUS_NAME": "bus",
    "GMI_API_KEY_SECRET_ID": "secret",
    "OUTPUT_BUCKET": "out-bucket",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:sm",
}


def test_default_ttl_is_the_job_deadline() -> None:
    assert SubmitEnv.from_environ(ENV).presign_ttl_seconds == 1800
    assert SubmitEnv.from_environ({**ENV, "JOB_DEADLINE_SECONDS": "21600"}).presign_ttl_seconds == 21600
    assert SubmitEnv.from_environ({**ENV, "PRESIGN_TTL_SECONDS": "600"}).presign_ttl_seconds == 600


def test_ttl_beyond_a_role_sessions_longest_life_is_refused() -> None:
    with pytest.raises(ValidationError, match="43200"):
        SubmitEnv.from_environ({**ENV, "PRESIGN_TTL_SECONDS": "43201"})


def test_the_url_carries_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session")  # temporary credentials, like a Lambda role's
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    reset_clients()
    try:
        with mock_aws():
            boto3.client("s3").create_bucket(Bucket="in-bucket")
            url = SourceImages().presign_get("in-bucket", "incoming/a.png", None, 1800)
    finally:
        reset_clients()
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["1800"]
    assert query["X-Amz-Security-Token"] == ["session"]  # the URL dies with that session


def test_the_submitted_image_url_lives_as_long_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24, gap: the TTL actually used when presigning, not only the configuration's: the submit service on
    the real S3 adapter (moto) POSTs an image URL whose X-Amz-Expires is PRESIGN_TTL_SECONDS (and so does the
    end frame's). Fails when the service or the adapter presigns for any other lifetime (e.g. 300 s)."""
    from i2v.services.submit import SubmitOutcome
    from i2v.services.submit_gate import SubmitGate
    from support.fakes import FakeBreaker, Fakes
    from support.submit_service import submit_env, submit_service

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    fakes = Fakes()
    reset_clients()
    try:
        with mock_aws():
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="in-bucket")
            s3.put_object(Bucket="in-bucket", Key="end-frames/last.png", Body=png)
            s3.put_object(
                Bucket="in-bucket", Key="incoming/a.png", Body=png, Metadata={"end_frame": "end-frames/last.png"}
            )
            service = submit_service(
                fakes,
                env=submit_env(
                    PRESIGN_TTL_SECONDS="2345", GMI_MODEL_ID="kling-v3-image-to-video", DEFAULT_SETTINGS=PROMPT
                ),
                gate=SubmitGate(breaker=FakeBreaker()),
            )
            service.images = SourceImages()
            source = SourceObject(
                bucket="in-bucket", key="incoming/a.png", version_id=None, etag="e", sequencer="0A", size=len(png)
            )
            result = service.submit_source(source)
    finally:
        reset_clients()

    assert result.outcome == SubmitOutcome.SUBMITTED
    (payload,) = fakes.gmi.submitted
    urls = [value for value in payload.values() if isinstance(value, str) and "X-Amz-Expires" in value]
    assert len(urls) == 2  # the image and the end frame
    assert [parse_qs(urlsplit(url).query)["X-Amz-Expires"] for url in urls] == [["2345"], ["2345"]]
