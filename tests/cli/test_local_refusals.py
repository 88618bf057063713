"""Local runs fail early and in one line (issue 11, item 9): a plain-http GMI, a video that cannot be decoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.cli import run
from i2v_local.cli import demo
from i2v_local.cli.output import CliError


@pytest.mark.parametrize("command", [["demo"], ["local", "up"]])
def test_a_plain_http_gmi_is_refused_before_anything_starts(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_synthesize() -> None:
        raise AssertionError("refused too late: the stack was being built")

    monkeypatch.setattr("i2v_local.cli.demo.synthesize_in_own_session", must_not_synthesize)
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
