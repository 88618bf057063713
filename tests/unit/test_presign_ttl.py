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
