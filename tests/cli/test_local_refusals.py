"""Local runs fail early and in one line (issue 11, item 9): a plain-http GMI, a video that cannot be decoded."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console

from fixtures.cli import run
from i2v.domain.record import JobRecord
from i2v_cli.output import CliError
from i2v_cli.watching import stage_of
from i2v_local import demo


@pytest.mark.parametrize("command", [["demo"], ["local", "up"]])
def test_a_plain_http_gmi_is_refused_before_anything_starts(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_synthesize() -> None:
        raise AssertionError("refused too late: the stack was being built")

    monkeypatch.setattr("i2v_local.demo.synthesize_in_own_session", must_not_synthesize)
    code, out, err = run(capsys, *command, "--gmi-base-url", "http://127.0.0.1:8089", "--gmi-api-key", "k")

    assert code != 0
    message = (out + err).strip()
    assert len(message.splitlines()) == 1, message
    assert "--gmi-base-url must be an https:// URL, not 'http'" in message
    assert "video_url_rejected" in message
    assert "Traceback" not in message


def test_an_undecodable_video_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\xde\xad" * 500)
    with pytest.raises(CliError, match=r"the stored video .*broken\.mp4 could not be decoded: "):
        demo._probe(broken)

    # What the user sees when the demo reaches that point: one line, no av traceback.
    def run_demo_to_the_probe(*_: object, **__: object) -> None:
        demo._probe(broken)

    monkeypatch.setattr(demo, "run_demo", run_demo_to_the_probe)
    code, out, err = run(capsys, "demo")
    assert code != 0
    message = (out + err).strip()
    assert len(message.splitlines()) == 1, message
    assert "could not be decoded" in message
    assert "Traceback" not in message


@pytest.fixture
def no_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_synthesize() -> None:
        raise AssertionError("refused too late: the stack was being built")

    monkeypatch.setattr("i2v_local.demo.synthesize_in_own_session", must_not_synthesize)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"meeting notes, not a picture", "unsupported_format: content is not an image we recognise"),
        (b"", "empty_image: the image is empty (0 bytes)"),
        (None, "no such file"),
    ],
)
def test_demo_refuses_a_file_that_is_no_image_before_anything_starts(
    content: bytes | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_stack: None
) -> None:
    """Issue 28, stumble 10: in the pipeline's own words (its failure categories), before the ~17 s boot."""
    notes = tmp_path / "notes.txt"
    if content is not None:
        notes.write_bytes(content)
    code, out, err = run(capsys, "demo", str(notes))
    assert code != 0
    said = (out + err).strip()
    assert len(said.splitlines()) == 1, said
    assert message in said


def test_an_unreachable_gmi_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], no_stack: None
) -> None:
    """Issue 28, stumble 3: it used to run 2 min 16 s and end "still deferred after 120s" with no reason."""
    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        code, out, err = run(capsys, "demo", "--gmi-base-url", f"https://127.0.0.1:{port}", "--gmi-api-key", "k")
    assert code != 0
    said = (out + err).strip()
    assert f"GMI at https://127.0.0.1:{port} is not reachable (Connection refused); nothing was started" in said


def test_a_gmi_url_without_a_key_is_warned_about() -> None:
    screen = Console(file=io.StringIO(), width=300)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"https://127.0.0.1:{server.getsockname()[1]}"
        demo.check_gmi(url, None, screen)
        assert "warning: --gmi-base-url without --gmi-api-key" in screen.file.getvalue()  # type: ignore[attr-defined]
        quiet = Console(file=io.StringIO(), width=300)
        demo.check_gmi(url, "a-key", quiet)
        assert quiet.file.getvalue() == ""  # type: ignore[attr-defined]


def _record(**fields: object) -> JobRecord:
    base = {
        "job_id": "0" * 32,
        "status": "deferred",
        "source": {"bucket": "b", "key": "incoming/a.png"},
        "model": "pixverse-v5.5-i2v",
        "created_at": "2026-12-07T00:00:00Z",
        "updated_at": "2026-12-07T00:00:00Z",
    }
    return JobRecord.model_validate(base | fields)


def test_a_deferred_job_says_what_it_waits_for() -> None:
    """Issue 28, stumble 3: "waiting for budget" was printed whatever the job waited for."""
    assert stage_of(_record(unavailable_since=0.0, unavailable_looks=3)).startswith(
        "waiting for GMI (unreachable or refusing since 00:00:00 UTC, 3 looks)"
    )
    assert stage_of(_record(pace_slot_at=60.0)) == "waiting for its turn (submissions are paced; next at 00:01:00 UTC)"
    assert stage_of(_record()) == "waiting for budget (the daily cap is reached)"
    over = {
        "category": "budget",
        "message": "daily budget of $2.00 (daily_budget_usd) reached; waiting for the next day",
    }
    assert stage_of(_record(failure=over)) == f"waiting for budget ({over['message']})"
    assert stage_of(_record(status="queued")) == "queued"


def test_status_says_which_days_budgets_a_job_counts_in() -> None:
    from i2v_cli.price_views import job_price_line

    held = {"day": "2026-03-14", "usd": 0.45, "budgets": ["all", "team-a/"]}
    job = _record(status="submitted", price_source="setting", estimated_cost_usd=0.45, budget_reserved=held)
    line = job_price_line(job)
    assert line is not None
    assert line.endswith("; counted in 2026-03-14's budgets: all, team-a/")
    assert "counted in" not in str(job_price_line(_record(price_source="setting", estimated_cost_usd=0.45)))
