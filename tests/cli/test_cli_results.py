"""`i2v fetch`, `i2v reconcile` and the summary `status` / `submit --wait` end with, against a running local stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.test_cli import cli_gmi, image, running_stack  # noqa: F401  (fixtures: a stack of this module's own)
from fixtures.cli import cli_json, run

pytestmark = pytest.mark.xdist_group(__name__)


def test_submit_wait_ends_with_a_summary_then_fetch_gets_video_and_poster(running_stack, image, capsys, tmp_path):  # noqa: F811
    code, out, _ = run(
        capsys, "submit", str(image), "--prompt", "waves [sim:poster]", "--quality", "360p", "--key", "incoming/cli/fetch.png",
        "--wait", "--timeout", "60",
    )  # fmt: skip
    assert code == 0, out
    assert "succeeded" in out
    assert "model pixverse-v5.5-i2v" in out
    assert "quality='360p'" in out  # differs from the default 540p
    assert "aspect_ratio" not in out  # the default: not worth a line
    assert "video:    s3://" in out
    assert "poster:   s3://" in out
    assert "time:" in out

    code, out, _ = run(capsys, "status", "incoming/cli/fetch.png", "--json")
    job = cli_json(out)
    assert job["poster"]["key"].endswith(".poster.jpg")  # --json: the whole record
    assert job["output"]["width"] > 0

    code, out, _ = run(capsys, "fetch", job["job_id"], "--out", str(tmp_path), "--json")
    assert code == 0
    files = cli_json(out)
    video, poster = Path(files["video"]), Path(files["poster"])
    assert video.read_bytes()[4:8] == b"ftyp"
    assert video.stat().st_size == job["output"]["size"]
    assert poster.read_bytes()[:3] == b"\xff\xd8\xff"

    code, _, err = run(capsys, "reconcile", job["job_id"])
    assert code == 1
    assert "only submit_ambiguous jobs" in err


def test_fetch_of_a_job_without_video_is_a_clear_error(running_stack, image, capsys):  # noqa: F811
    code, out, _ = run(
        capsys, "submit", str(image), "--prompt", "[sim:fail] nothing", "--key", "incoming/cli/novideo.png",
        "--wait", "--timeout", "60",
    )  # fmt: skip
    assert code == 2
    assert "reason:   gmi_failed" in out
    code, _, err = run(capsys, "fetch", "incoming/cli/novideo.png")
    assert code == 1
    assert "has no video" in err


def test_reconcile_finds_an_ambiguous_submission_at_gmi(running_stack, image, capsys):  # noqa: F811
    code, out, _ = run(
        capsys, "submit", str(image), "--prompt", "[sim:500_after_accept] a pier", "--key",
        "incoming/cli/reconcile.png", "--wait", "--timeout", "60", "--json",
    )  # fmt: skip
    assert code == 2
    job = cli_json(out)["job"]
    assert job["status"] == "submit_ambiguous"

    code, out, _ = run(capsys, "reconcile", job["job_id"], "--json")
    assert code == 0, out
    found = cli_json(out)
    assert found["reconciled"] is True
    assert found["status"] in ("submitted", "queued", "processing", "succeeded")
    code, out, _ = run(capsys, "watch", job["job_id"], "--timeout", "60", "--json")
    final = cli_json(out)["job"]
    assert final["status"] == "succeeded"
    assert final["attempt"] == 1  # the same submission, not a second one
