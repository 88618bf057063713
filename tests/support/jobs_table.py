"""A jobs table in moto (in-process), shaped like the template's, for repository-level tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import boto3
from moto import mock_aws

from i2v.adapters.aws import reset_clients
from i2v_local.jobs_table import create_jobs_table

TABLE_NAME = "i2v-jobs-test"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
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
            create_jobs_table(boto3.client("dynamodb"), TABLE_NAME)
            yield TABLE_NAME
    finally:
        reset_clients()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
