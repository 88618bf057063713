"""boto3 clients, created once per process on first use (cold starts only pay for what they touch)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

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
