"""`i2v events`: the pipeline's events of a running local stack, one line each, or JSON Lines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.cli import run
from fixtures.local_stack import png_bytes
from i2v_cli import target as cli_target
from i2v_cli.events import event_line
from i2v_events import parse_event
from i2v_local.demo import lambda_output_to_file, local_functions
from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalSettings, LocalStack

pytestmark = pytest.mark.xdist_group(__name__)


@pytest.fixture(scope="module")
def running_stack(cdk_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir = tmp_path_factory.mktemp("i2v-state")
    patcher = pytest.MonkeyPatch()
    patcher.setattr(cli_target, "STATE_DIR", state_dir)
    patcher.setattr(cli_target, "LOCAL_STATE", state_dir / "local.json")
    patcher.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with GmiSimulator(timing=Timing.zero()) as sim:
        settings = LocalSettings.for_simulator(sim, gmi_timeout_seconds=1.0)
        with (
            LocalStack(cdk_template, settings, mode="server") as stack,
            lambda_output_to_file(state_dir / "lambda.log"),
        ):
            stack.start_background(interval=0.1)
            cli_target.write_local_state(stack.outputs, stack.client_env(), local_functions(stack))
            yield stack
    patcher.undo()


def upload_once_listening(stack: LocalStack) -> threading.Thread:
    """Uploads a good and a bad image as soon as the command's tap rule is on the bus (not before: a tap sees
    only what comes after it)."""

    def upload() -> None:
        events, bus = stack.client("events"), stack.outputs["EventBusName"]
        deadline = time.monotonic() + 30
        while not events.list_rules(EventBusName=bus, NamePrefix="i2v-tap-")["Rules"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        s3, bucket = stack.client("s3"), stack.outputs["InputBucketName"]
        s3.put_object(Bucket=bucket, Key="incoming/events/fine.png", Body=png_bytes(), Metadata={"prompt": "waves"})
        s3.put_object(Bucket=bucket, Key="incoming/events/notes.jpg", Body=b"not an image")

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    return thread


def test_events_json_lines_then_one_line_per_event(running_stack: LocalStack, capsys: Any) -> None:
    uploader = upload_once_listening(running_stack)
    code, out, err = run(capsys, "events", "--follow", "--limit", "3", "--json")
    uploader.join()
    assert code == 0, err
    # In-process, the functions' own stdout lines (EMF metrics) share the captured stdout: keep the events.
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"detail-type"' in line]
    assert len(lines) == 3
    statuses = sorted(parse_event(event).detail.status for event in lines)
    assert statuses == ["rejected", "submitted", "succeeded"]
    # The tap is gone when the command ends.
    bus = running_stack.outputs["EventBusName"]
    assert running_stack.client("events").list_rules(EventBusName=bus, NamePrefix="i2v-tap-")["Rules"] == []

    human = [event_line(event) for event in lines]
    assert any("succeeded" in line and "s3://" in line and "incoming/events/fine.png" in line for line in human)
    assert any("rejected" in line and "unsupported_format" in line for line in human)
    assert all(line[2] == ":" and line[5] == ":" for line in human)


def test_events_without_follow_stops_after_its_time(running_stack: LocalStack, capsys: Any) -> None:
    code, out, _err = run(capsys, "events", "--for", "0")
    assert code == 0
    assert "listening to" in out
    assert " for 0 s" in out
    assert "Ctrl-C" not in out  # it stops by itself (issue 28, stumble 13)


def test_a_preview_ready_event_is_one_line_naming_both_images() -> None:
    base = "videos/cat-" + "a" * 32
    image = {"bucket": "out", "content_type": "image/jpeg", "size": 9000, "width": 320, "height": 180}
    event = {
        "version": "0", "id": "1", "detail-type": "Video Preview Ready", "source": "i2v.pipeline",
        "account": "123456789012", "time": "2026-01-01T10:11:12Z", "region": "us-east-1", "resources": [],
        "detail": {
            "schema_version": "1", "job_id": "a" * 32, "attempt": 1, "model": "m", "status": "succeeded",
            "occurred_at": "2026-01-01T10:11:12Z", "source": {"bucket": "in", "key": "incoming/cat.png", "version_id": None},
            "output": {"bucket": "out", "key": base + ".mp4"},
            "previews": {
                "poster": {**image, "key": base + ".frame.jpg", "at_seconds": 1.0},
                "animated": {**image, "key": base + ".preview.webp", "content_type": "image/webp",
                             "frame_count": 40, "fps": 10, "duration_seconds": 4.0},
            },
        },
    }  # fmt: skip
    line = event_line(event)
    assert line.startswith("10:11:12  preview ready")
    assert f"s3://out/{base}.frame.jpg (at 1.0 s)" in line
    assert "cat-" + "a" * 32 + ".preview.webp (40 frames, 8 KB)" in line
