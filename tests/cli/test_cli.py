"""The `i2v` CLI against a running local stack (server mode, as `i2v local up` runs it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import cli_json, run, transcript
from fixtures.leak_guard import remember_presigned_signatures
from fixtures.local_stack import png_bytes
from i2v_cli import target as cli_target
from i2v_local.demo import lambda_output_to_file, local_functions
from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalSettings, LocalStack
from support.leak_guard import LeakGuard

pytestmark = pytest.mark.xdist_group(__name__)


# Recognisable, so a leak is unmistakable (the module's leak guard looks for it everywhere).
CLI_API_KEY = "sk-i2v-cli-CANARY-2d9e71c4a0"
SAMPLE_POLL_INPUT = str(Path(__file__).resolve().parents[2] / "events" / "poll_input.json")


@pytest.fixture(scope="module")
def cli_gmi() -> Iterator[GmiSimulator]:
    with GmiSimulator(timing=Timing.zero(), api_key=CLI_API_KEY) as sim:
        yield sim


@pytest.fixture(scope="module")
def running_stack(
    cdk_template: dict[str, Any], cli_gmi: GmiSimulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """The stack `i2v local up` runs, for the whole module; its leak guard scans everything written down
    (table, events, queues, executions, the functions' log file, what the CLI printed) when it stops."""
    state_dir = tmp_path_factory.mktemp("i2v-state")
    patcher = pytest.MonkeyPatch()
    patcher.setattr(cli_target, "STATE_DIR", state_dir)
    patcher.setattr(cli_target, "LOCAL_STATE", state_dir / "local.json")
    # As with `i2v local up`, the functions' output is not the CLI's: keep it off the captured stdout.
    patcher.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    guard = LeakGuard(secrets={CLI_API_KEY})
    remember_presigned_signatures(guard, patcher)
    transcript.clear()
    settings = LocalSettings.for_simulator(cli_gmi, gmi_timeout_seconds=1.0)
    with (
        LocalStack(cdk_template, settings, mode="server") as stack,
        lambda_output_to_file(state_dir / "lambda.log"),
    ):
        guard.watch(stack)
        stack.start_background(interval=0.1)
        cli_target.write_local_state(stack.outputs, stack.client_env(), local_functions(stack))
        yield stack
        guard.collect_stack(stack)
    guard.add("function logs", (state_dir / "lambda.log").read_text(encoding="utf-8"))
    for printed in transcript:
        guard.add("cli output", printed)
    patcher.undo()
    guard.check()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "pier.png"
    path.write_bytes(png_bytes(96, 54))
    return path


def test_submit_wait_json_then_status_list_watch(running_stack, image, capsys):
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        "ñandú corre 🎉",
        "--quality",
        "360p",
        "--key",
        "incoming/cli/pier.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, out
    submitted = cli_json(out)
    job = submitted["job"]
    assert job["status"] == "succeeded"
    assert job["settings"]["prompt"] == "ñandú corre 🎉"  # non-ASCII survives metadata encoding
    assert job["settings"]["quality"] == "360p"
    assert job["output"]["key"].endswith(".mp4")

    code, out, _ = run(capsys, "status", "incoming/cli/pier.png", "--json")
    assert code == 0
    assert cli_json(out)["job_id"] == job["job_id"]

    code, out, _ = run(capsys, "list", "--status", "succeeded", "--since", "1h", "--json")
    assert code == 0
    assert job["job_id"] in {j["job_id"] for j in cli_json(out)}

    code, out, _ = run(capsys, "watch", job["job_id"], "--json")
    assert code == 0
    assert cli_json(out)["job"]["status"] == "succeeded"
    # For a person, a finished job is its summary, not the raw record (issue 28, stumble 13).
    code, out, _ = run(capsys, "watch", job["job_id"])
    assert code == 0
    assert f"succeeded  job {job['job_id']}" in out
    assert '"job_id"' not in out

    code, out, _ = run(capsys, "status", job["job_id"])
    assert code == 0
    assert "succeeded" in out


def test_submit_on_another_model_with_set_options(running_stack, image, capsys):
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        "the pier creaks",
        "--model",
        "wan2.6-i2v",
        "--set",
        "duration=10",
        "--set",
        "resolution=720P",
        "--key",
        "incoming/cli/wan.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, out
    job = cli_json(out)["job"]
    assert job["status"] == "succeeded"
    assert job["model"] == "wan2.6-i2v"
    assert (job["settings"]["duration"], job["settings"]["resolution"]) == (10, "720P")


def test_retry_resolves_an_ambiguous_submission(running_stack, cli_gmi, image, capsys):
    posts_before = _posts(cli_gmi)
    # GMI accepts the POST but the answer never arrives: no blind re-POST, the job waits for an operator.
    prompt = "[sim:post_timeout_after_accept seconds=3] the pier creaks"
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        prompt,
        "--key",
        "incoming/cli/ambiguous.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 2
    job = cli_json(out)["job"]
    assert job["status"] == "submit_ambiguous"
    assert job["failure"]["category"] == "submit_ambiguous"
    # What the user reads first is the search that cannot pay twice (issue 28, stumble 7).
    assert f"`i2v reconcile {job['job_id']}` searches now" in job["failure"]["message"]
    # GMI was asked once (and created the job); the ambiguity itself never sends again.
    running_stack.wait_until(lambda: _posts(cli_gmi) > posts_before, timeout=10)  # logged once GMI gives up
    assert _posts(cli_gmi) == posts_before + 1

    code, _, err = run(capsys, "retry", job["job_id"], "--json")
    assert code == 1
    assert "pay twice" in err
    assert "Traceback" not in err
    assert _posts(cli_gmi) == posts_before + 1  # refused without --yes: nothing sent

    code, out, _ = run(capsys, "retry", job["job_id"], "--yes", "--json")
    assert code == 0
    assert cli_json(out)["attempt"] == 2
    code, out, _ = run(capsys, "watch", job["job_id"], "--timeout", "60", "--json")
    final = cli_json(out)["job"]
    assert final["status"] == "succeeded"
    assert final["attempt"] == 2
    assert _posts(cli_gmi) == posts_before + 2  # exactly the one POST the operator confirmed


def _posts(sim: GmiSimulator) -> int:
    return sum(1 for entry in sim.requests_log if entry.method == "POST")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", "missing.png", "--prompt", "x"], "no such file"),
        (["status", "0" * 32], "no job found"),
        (["list", "--status", "sleeping"], "--status must be one of"),
        (["list", "--since", "yesterday-ish"], "--since"),
    ],
)
def test_user_errors_are_one_line_without_traceback(running_stack, capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_invalid_settings_and_non_images_are_refused_before_upload(running_stack, image, tmp_path, capsys):
    code, _, err = run(capsys, "submit", str(image), "--prompt", "x", "--quality", "1080p", "--duration", "10")
    assert code == 1
    assert "1080p" in err
    text = tmp_path / "notes.jpg"
    text.write_text("not an image at all")
    code, _, err = run(capsys, "submit", str(text), "--prompt", "x")
    assert code == 1
    assert "JPEG, PNG or WebP" in err


def test_retrying_a_succeeded_job_is_refused(running_stack, image, capsys):
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        "calm",
        "--key",
        "incoming/cli/done.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0
    code, _, err = run(capsys, "retry", cli_json(out)["job"]["job_id"])
    assert code == 1
    assert "is succeeded; only failed, rejected, submit_ambiguous, timed_out jobs can be retried" in err
    assert "JobStatus" not in err  # no enum reprs (issue 28, stumble 6)


def test_retrying_a_job_rejected_for_its_own_metadata_hints_at_a_new_upload(running_stack, capsys):
    # Uploaded around the CLI (which checks settings first), as `aws s3 cp --metadata` would.
    bucket = running_stack.outputs["InputBucketName"]
    key = "incoming/cli/bad-settings.png"
    running_stack.client("s3").put_object(Bucket=bucket, Key=key, Body=png_bytes(96, 54), Metadata={"quality": "9000p"})
    code, out, _ = run(capsys, "watch", key, "--timeout", "60", "--json")
    job = cli_json(out)["job"]
    assert (job["status"], job["failure"]["category"]) == ("rejected", "invalid_settings")

    code, out, _ = run(capsys, "retry", job["job_id"])
    assert code == 0
    assert "queued again (attempt 2)" in out
    # Issue 28, stumble 7: the retry reads the same metadata, so it says what would fix it.
    assert "rejected as invalid_settings" in " ".join(out.split())
    assert "upload it again" in " ".join(out.split())


def test_no_local_stack_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli_target, "LOCAL_STATE", tmp_path / "absent.json")
    code, _, err = run(capsys, "list", "--target", "local")
    assert code == 1
    assert "i2v local up" in err


def test_invoke_runs_a_function_on_a_sample_event(running_stack, capsys):
    # The sample poll input names a request GMI has never seen: the poll says so instead of crashing.
    code, out, _ = run(capsys, "invoke", "poll", SAMPLE_POLL_INPUT, "--json")
    assert code == 0
    result = cli_json(out)
    assert result["outcome"] == "failed"
    assert result["failure"]["category"] == "gmi_not_found"
    code, _, err = run(capsys, "invoke", "resize", SAMPLE_POLL_INPUT)
    assert code == 1
    assert "no function 'resize': one of " in err


def test_submit_with_an_end_frame_uploads_it_and_status_shows_it(running_stack, image, tmp_path, capsys):
    """Issue 28, stumble 11: no CLI way to upload an end frame; status did not show it."""
    last = tmp_path / "dusk.png"
    last.write_bytes(png_bytes(96, 54))
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        "day turns to night",
        "--model",
        "kling-v3-image-to-video",
        "--end-frame",
        str(last),
        "--key",
        "incoming/cli/dawn.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, out
    job = cli_json(out)["job"]
    assert job["status"] == "succeeded"
    assert job["end_frame"]["key"] == "end-frames/dusk.png"
    code, out, _ = run(capsys, "status", job["job_id"])
    assert code == 0
    assert "end frame: s3://" in out
    assert "/end-frames/dusk.png" in out


def test_a_key_outside_the_input_prefix_is_refused_with_a_hint(running_stack, image, capsys):
    code, _, err = run(capsys, "submit", str(image), "--prompt", "x", "--key", "end-frames/dusk.png")
    assert code == 1
    assert "end-frames/dusk.png: only keys under incoming/ start a job (an end frame goes with --end-frame)" in err


def test_settings_over_s3s_metadata_limit_go_into_a_sidecar(running_stack, image, capsys):
    """Issue 28, stumble 2 (a long prompt ended in a raw 431), then issue 27: instead of refusing settings S3's
    2 KB of metadata cannot carry, the CLI uploads them as the image's settings sidecar."""
    prompt = "waves " * 400  # 2,400 bytes: over S3's 2 KB, within kling-v3's 2,500 characters
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        prompt,
        "--model",
        "kling-v3-image-to-video",
        "--key",
        "incoming/cli/long.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, out
    result = cli_json(out)
    assert result["uploaded"]["sidecar"] == "incoming/cli/long.json"
    job = result["job"]
    assert (job["status"], job["model"], job["settings"]["prompt"]) == (
        "succeeded",
        "kling-v3-image-to-video",
        prompt.strip(),
    )
    assert job["sidecar"]["key"] == "incoming/cli/long.json"
    code, _, err = run(capsys, "submit", str(image), "--prompt", "waves " * 500, "--model", "kling-v3-image-to-video")
    assert code == 1  # the model's own limit still holds, checked before anything is uploaded
    assert "2500" in " ".join(err.split())


def test_submit_with_a_settings_file_uploads_its_sidecar_and_options_beat_it(running_stack, image, tmp_path, capsys):
    settings = tmp_path / "harbour.json"
    prompt = ("gulls lift off the pier as the tide turns, " * 80)[:3000]
    settings.write_text(f'{{"model": "pixverse-v6-i2v", "prompt": "{prompt}", "duration": 8, "quality": "360p"}}')
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--settings-file",
        str(settings),
        "--set",
        "quality=540p",
        "--key",
        "incoming/cli/harbour.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, out
    job = cli_json(out)["job"]
    assert job["status"] == "succeeded"
    assert (job["model"], job["settings"]["prompt"], job["settings"]["duration"]) == ("pixverse-v6-i2v", prompt, 8)
    assert job["settings"]["quality"] == "540p"  # the option (metadata) beats the file (sidecar)

    settings.write_text('{"prompt": "the cat blinks", "qualty": "720p"}')
    code, _, err = run(capsys, "submit", str(image), "--settings-file", str(settings))
    assert code == 1  # refused before anything is uploaded
    assert "'qualty'" in err


def test_list_at_80_columns_cuts_nothing_and_every_command_takes_its_id_prefix(
    running_stack, image, capsys, monkeypatch
):
    """Issue 28, stumble 4: at 80 columns `i2v list` cut job ids, and no command accepted a prefix."""
    code, out, _ = run(
        capsys,
        "submit",
        str(image),
        "--prompt",
        "x",
        "--key",
        "incoming/cli/a-rather-long-folder-name/narrow.png",
        "--wait",
        "--timeout",
        "60",
        "--json",
    )
    job_id = cli_json(out)["job"]["job_id"]
    monkeypatch.setattr("i2v_cli.output.console.width", 80)
    code, out, _ = run(capsys, "list", "--since", "1h")
    assert code == 0
    assert "…" not in out
    assert job_id[:12] in out
    code, out, _ = run(capsys, "status", job_id[:12], "--json")
    assert code == 0
    assert cli_json(out)["job_id"] == job_id
    code, _, err = run(capsys, "status", "0123456789ab")
    assert code == 1
    assert "no job found" in err
