"""boto3 clients, created once per process on first use (cold starts only pay for what they touch)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from i2v.domain.jobs import TransientError
from i2v.domain.redaction import redact, truncate

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=20)


@cache
def client(service: str) -> Any:
    # AWS_ENDPOINT_URL (honoured by boto3 itself) points every client at the local stack when set.
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def presigning_s3_client() -> Any:
    """SigV4 against the regional endpoint, so URLs work in every region right after bucket creation."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.session.Session().client(
        "s3",
        region_name=region,
        endpoint_url=endpoint or f"https://s3.{region}.amazonaws.com",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual" if not endpoint else "path"}),
    )


def reset_clients() -> None:
    """Tests switch endpoints between runs; forget the cached clients."""
    client.cache_clear()
    presigning_s3_client.cache_clear()


# Error codes that mean "send it again later" (boto3 has already retried them _CONFIG's max_attempts times).
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionInProgressException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
    }
)


def is_transient_aws_error(error: BaseException) -> bool:
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or code in _TRANSIENT_CODES
    return isinstance(error, ConnectionError | HTTPClientError)


@contextmanager
def aws_errors_are_transient() -> Iterator[None]:
    """In a Step Functions task: a throttled or failing AWS call becomes TransientError, which the state
    machine retries, instead of an error its Catch turns into a failed job (e.g. after the video was stored)."""
    try:
        yield
    except (ClientError, ConnectionError, HTTPClientError) as error:
        if not is_transient_aws_error(error):
            raise
        raise TransientError(truncate(redact(f"AWS call failed: {error}"))) from error
