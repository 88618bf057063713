"""`i2v demo` end to end: the real pipeline offline, leaving a playable MP4."""

from __future__ import annotations

import av
import pytest
from PIL import Image

from fixtures.cli import cli_json, run
from i2v_local.demo import SAMPLE_IMAGE
from i2v_local.simulator.video import frame_size

pytestmark = pytest.mark.xdist_group(__name__)


def test_demo_leaves_a_playable_video_and_reports_every_stage(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo", "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    result = cli_json(out)
    job = result["job"]
    assert job["status"] == "succeeded"
    for stage in ("received", "submitting", "submitted", "succeeded"):
        assert stage in job["timestamps"]
    assert result["stages"][0] == "uploaded"
    assert result["stages"][-1] == "done"
    assert result["event"]["detail-type"] == "Video Generation Succeeded"
    assert result["event"]["detail"]["job_id"] == job["job_id"]
    with av.open(result["video"]["path"]) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (320, 180)  # 16:9 at the simulator's reduced size
        assert sum(1 for _ in container.decode(stream)) >= 40
    assert (tmp_path / ".i2v" / "lambda.log").stat().st_size > 0


def test_demo_command_takes_a_model(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo", "--model", "wan2.6-i2v", "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    result = cli_json(out)
    assert result["job"]["model"] == "wan2.6-i2v"
    assert result["job"]["settings"]["duration"] == 5
    with Image.open(SAMPLE_IMAGE) as sample:
        assert (result["video"]["width"], result["video"]["height"]) == frame_size(None, sample)
