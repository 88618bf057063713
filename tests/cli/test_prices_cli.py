"""Issue 25: `i2v estimate` prices an image without submitting it (the deployment's gmi_prices > GMI's price_info
> documented > none), and `i2v status` / `i2v list` show each job's recorded estimate. Against a running local
stack (server mode, as `i2v local up` runs it) and the GMI simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import cli_json, run, transcript
from fixtures.leak_guard import remember_presigned_signatures
from fixtures.local_stack import png_bytes
from i2v_cli import target as cli_target
from i2v_cli.price_views import usd
from i2v_local.demo import local_functions
from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalSettings, LocalStack
from support.leak_guard import LeakGuard

pytestmark = pytest.mark.xdist_group(__name__)

API_KEY = "sk-i2v-prices-CANARY-71c4a02d9e"
# wan2.6-i2v has no documented price: the deployment gives it one.
GMI_PRICES = {"wan2.6-i2v": {"unit": "second", "rates": [{"when": {"resolution": "1080P"}, "usd": 0.05}]}}


@pytest.fixture(scope="module")
def priced_stack(cdk_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir = tmp_path_factory.mktemp("i2v-state")
    patcher = pytest.MonkeyPatch()
    patcher.setattr(cli_target, "STATE_DIR", state_dir)
    patcher.setattr(cli_target, "LOCAL_STATE", state_dir / "local.json")
    patcher.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    guard = LeakGuard(secrets={API_KEY})
    remember_presigned_signatures(guard, patcher)
    transcript.clear()
    with GmiSimulator(timing=Timing.zero(), api_key=API_KEY) as sim:
        settings = LocalSettings.for_simulator(
            sim, gmi_timeout_seconds=1.0, environment={"GMI_PRICES": json.dumps(GMI_PRICES)}
        )
        with LocalStack(cdk_template, settings, mode="server") as stack:
            guard.watch(stack)
            stack.start_background(interval=0.1)
            cli_target.write_local_state(stack.outputs, stack.client_env(), local_functions(stack))
            yield stack
            guard.collect_stack(stack)
    for printed in transcript:
        guard.add("cli output", printed)
    patcher.undo()
    guard.check()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "dune.png"
    path.write_bytes(png_bytes(96, 54))
    return path


@pytest.mark.parametrize(
    ("args", "source", "amount"),
    [
        (["--model", "kling-3.0-turbo-i2v", "--set", "resolution=1080p"], "gmi", 0.56),  # the simulator's $0.112/s
        (["--model", "wan2.6-i2v", "--set", "duration=10"], "setting", 0.5),
        (["--model", "kling-v3-image-to-video", "--set", "sound=on", "--set", "duration=4"], "documented", 1.008),
        (["--model", "kling-v3-image-to-video"], "documented", None),  # sound off: no documented rate
        ([], "none", None),  # the deployment's model, pixverse-v5.5-i2v: GMI documents no price
    ],
)
def test_estimate_prices_without_submitting(
    priced_stack: LocalStack, image: Path, capsys: Any, args: list[str], source: str, amount: float | None
) -> None:
    code, out, _ = run(capsys, "estimate", str(image), *args, "--json")
    assert code == 0, out
    estimate = cli_json(out)
    assert (estimate["price_source"], estimate["estimated_cost_usd"]) == (source, amount)
    assert estimate["notes"] == []
    code, out, _ = run(capsys, "estimate", str(image), *args)
    assert code == 0
    assert (usd(amount) if amount is not None else "no known price") in out
    assert priced_stack.client("s3").list_objects_v2(Bucket=priced_stack.outputs["InputBucketName"])["KeyCount"] == 0


def test_a_submitted_job_shows_the_estimate_estimate_predicted(
    priced_stack: LocalStack, image: Path, capsys: Any
) -> None:
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        "sand drifts",
        "--model",
        "kling-3.0-turbo-i2v",
        "--set",
        "duration=10",
        "--key",
        "incoming/cli/dune.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, out
    job = cli_json(out)["job"]
    assert (job["estimated_cost_usd"], job["price_source"]) == (1.12, "gmi")
    # The uploaded object, estimated by its key: the same settings (its metadata), the same price.
    code, out, _ = run(capsys, "estimate", "incoming/cli/dune.png", "--json")
    assert (cli_json(out)["estimated_cost_usd"], cli_json(out)["model"]) == (1.12, "kling-3.0-turbo-i2v")
    code, out, _ = run(capsys, "status", job["job_id"])
    assert "price:    $1.12 (GMI's price_info)" in out
    code, out, _ = run(capsys, "list", "--since", "1h")
    assert "$1.12" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", "incoming/nothing-here.png"], "not a file here, nor an object of s3://"),
        (["estimate", "{image}", "--model", "sora-9"], "unknown model 'sora-9'"),
        (["estimate", "{image}", "--set", "quality=8k"], "quality"),
    ],
)
def test_estimate_errors_are_one_line(
    priced_stack: LocalStack, image: Path, capsys: Any, args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *(arg.replace("{image}", str(image)) for arg in args))
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_models_with_a_target_show_the_deployments_rules(priced_stack: LocalStack, capsys: Any) -> None:
    code, out, _ = run(capsys, "models", "--target", "local", "--json")
    assert code == 0, out
    rows = {row["id"]: row["price"] for row in cli_json(out)}  # data: the rule, its source, its text
    assert (rows["wan2.6-i2v"]["source"], rows["wan2.6-i2v"]["text"]) == ("setting", "$0.05/s at resolution=1080P")
    assert (rows["kling-3.0-turbo-i2v"]["source"], rows["kling-3.0-turbo-i2v"]["text"]) == ("gmi", "$0.112/s")
    assert rows["kling-v3-image-to-video"]["source"] == "documented"
    assert rows["pixverse-v5.5-i2v"] == {"source": "none", "rule": None, "text": None}
    code, out, _ = run(capsys, "models", "--target", "local")
    said = " ".join(out.split())
    assert "$0.05/s at resolution=1080P (gmi_prices)" in said
    assert "$0.112/s (GMI's price_info)" in said
    assert "none known" in said
    code, out, _ = run(capsys, "models", "show", "wan2.6-i2v", "--target", "local", "--json")
    assert cli_json(out)["price"]["source"] == "setting"
    code, out, _ = run(capsys, "models", "show", "kling-3.0-turbo-i2v", "--target", "local")
    assert "price (GMI's price_info):" in out
    assert "every setting: $0.112/s -> $0.56 for 5 s (the default)" in out
