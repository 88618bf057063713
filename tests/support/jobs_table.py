"""A jobs table in moto (in-process), shaped like the template's, for repository-level tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import boto3
from moto import mock_aws

from i2v.adapters.aws import reset_clients

TABLE_NAME = "i2v-jobs-test"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def _index(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


@contextlib.contextmanager
def moto_jobs_table() -> Iterator[str]:
    """`with moto_jobs_table() as table_name:` the clients of i2v.adapters.aws talk to moto meanwhile."""
    saved = {name: os.environ.get(name) for name in [*_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    reset_clients()
    try:
        with mock_aws():
            boto3.client("dynamodb").create_table(
                TableName=TABLE_NAME,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in ("pk", "sk", "source_id", "created_at", "status", "updated_at", "history_key")
                ],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                GlobalSecondaryIndexes=[
                    _index("by-source", "source_id", "created_at"),
                    _index("by-status", "status", "updated_at"),
                    {
                        **_index("by-time-class", "history_key", "updated_at"),
                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["generation_seconds"]},
                    },
                ],
            )
            yield TABLE_NAME
    finally:
        reset_clients()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
