"""Fixtures shared by the two IAM checks."""

from __future__ import annotations

from typing import Any

import pytest

from support.iam_allow_list import Grant, expected_grants


@pytest.fixture(scope="module")
def expected(cdk_template: dict[str, Any]) -> dict[str, dict[Grant, str]]:
    outputs = cdk_template["Outputs"]
    return expected_grants(outputs["InputPrefix"]["Value"], outputs["OutputPrefix"]["Value"])
