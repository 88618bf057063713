"""The local stack's one parse of botocore's service models (i2v_local.stack.botocore_models): boto3 Sessions made
while it runs share one Loader (so a model is read and parsed once per process), boto3's data path is in its search
path once however many Sessions were made, and the clients work as before."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from moto import mock_aws

from i2v_local.stack.botocore_models import models_parsed_once


@pytest.mark.parametrize(
    ("parsing", "shared"), [(models_parsed_once, True), (nullcontext, False)], ids=["local-stack", "boto3-as-is-canary"]
)
def test_sessions_share_one_loader(parsing: Callable[[], AbstractContextManager[Any]], shared: bool) -> None:
    with parsing():
        sessions = [boto3.session.Session() for _ in range(3)]
    loaders = {id(session._loader) for session in sessions}
    assert (len(loaders) == 1) is shared
    paths = sessions[0]._loader.search_paths
    assert len(paths) == len(set(paths))  # boto3's data directory once, not once per Session


def test_a_client_of_a_shared_loader_works() -> None:
    with mock_aws(), models_parsed_once():
        for name in ("first-bucket", "second-bucket"):
            boto3.session.Session().client("s3", region_name="us-east-1").create_bucket(Bucket=name)
        listed = boto3.session.Session().client("s3", region_name="us-east-1").list_buckets()["Buckets"]
        assert [bucket["Name"] for bucket in listed] == ["first-bucket", "second-bucket"]
