"""examples/consumer: a CDK app that subscribes in one line per target; it synthesizes clean under cdk-nag and
cfn-lint, and its handler reads a real-shaped event through the typed package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from i2v_events.v1 import DETAIL_KINDS

pytestmark = pytest.mark.xdist_group("cdk")

EXAMPLE = Path(__file__).parents[2] / "examples" / "consumer"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from i2v_infra.nag import ACKNOWLEDGED
    from i2v_infra.synth import synthesize_app

    before = len(ACKNOWLEDGED)
    app = load(EXAMPLE / "app.py", "example_consumer_app")
    result = synthesize_app(tmp_path_factory.mktemp("cdk-example"), app.build)
    del ACKNOWLEDGED[before:]  # the record of acknowledgments is the pipeline app's (test_infra_compliance)
    return result


def test_example_is_clean_under_cdk_nag_and_cfn_lint(example_synth: Any) -> None:
    from i2v_infra.cfn_lint import lint

    assert (example_synth.outdir / "validation-report.json").is_file(), "the nag packs did not run"
    assert example_synth.violations == []
    for name in example_synth.templates:
        assert lint(example_synth.outdir / name) == []


def test_example_subscribes_a_lambda_and_a_queue(example_synth: Any) -> None:
    rules = [r["Properties"] for r in example_synth.template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    patterns = [r["EventPattern"] for r in rules if r["EventPattern"].get("source") == ["i2v.pipeline"]]
    assert {"source": ["i2v.pipeline"], "detail-type": ["Video Generation Succeeded"]} in patterns
    assert {
        "source": ["i2v.pipeline"],
        "detail-type": ["Video Generation Failed"],
        "detail": {"status": ["failed", "timed_out", "submit_ambiguous"]},
    } in patterns
    schemas = [r for r in example_synth.template["Resources"].values() if r["Type"] == "AWS::EventSchemas::Schema"]
    assert len(schemas) == len(DETAIL_KINDS)  # one registry schema per event kind


def test_example_asset_carries_the_typed_package(example_synth: Any) -> None:
    notify = next(
        r
        for r in example_synth.template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == "notify.handler"
    )
    assert notify["Properties"]["Code"]["S3Key"].endswith(".zip")
    (asset,) = [p for p in example_synth.outdir.glob("asset.*") if (p / "notify.py").is_file()]
    assert (asset / "notify.py").is_file()
    assert (asset / "i2v_events" / "v1" / "details.py").is_file()
    assert (asset / "pydantic").is_dir()


def test_example_handler_reads_a_succeeded_event() -> None:
    notify = load(EXAMPLE / "functions" / "notify.py", "example_consumer_notify")
    event = {
        "version": "0",
        "id": "e1",
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
            "source": {"bucket": "in", "key": "incoming/cat.png", "version_id": None},
            "model": "pixverse-v5.5-i2v",
            "occurred_at": "2026-01-01T00:00:00.000Z",
            "request_id": "r-1",
            "output": {"bucket": "out", "key": "videos/cat.mp4", "size": 10, "content_type": "video/mp4"},
            "estimated_cost_usd": 0.56,
            "price_source": "documented",
        },
    }

    class Context:
        function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "notify", 256, "arn", "req"

    result = notify.handler(event, Context())
    assert result == {
        "job_id": "0123456789abcdef0123456789abcdef",
        "video": "s3://out/videos/cat.mp4",
        "poster": None,
        "seconds": None,
        "cost_usd": 0.56,
    }
