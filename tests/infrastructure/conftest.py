"""Fixtures for the infrastructure tests: the real app, synthesized once per test session (per worker)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

REPO_ROOT = Path(__file__).resolve().parents[2]
for _path in (REPO_ROOT / "infrastructure", REPO_ROOT / "functions"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))


@pytest.fixture(scope="session")
def synth_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app as `cdk synth` builds it from cdk.json, with the AwsSolutions and Serverless packs."""
    from i2v_infra.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk-out"), nag=True)


@pytest.fixture(scope="session")
def template_dict(synth_result: Any) -> dict[str, Any]:
    return synth_result.template  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def template(template_dict: dict[str, Any]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(template_dict)


@pytest.fixture(scope="session")
def opt_in_template_dict(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app with every opt-in that costs money when idle switched on (docs/deploy.md, "What it costs")."""
    from i2v_infra.synth import synthesize

    overrides = {"dashboard": True, "trace_looks": True}
    return synthesize(tmp_path_factory.mktemp("cdk-out-opt-in"), nag=False, config_overrides=overrides).template  # type: ignore[no-any-return]
