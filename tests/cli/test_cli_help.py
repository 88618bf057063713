"""Help and argument errors read well (issue 28, stumble 13)."""

from __future__ import annotations

import argparse

import pytest

from fixtures.cli import run
from i2v_local.simulator.cli import build_parser


@pytest.mark.parametrize("command", [["submit"], ["watch"], ["demo"], ["retry"], ["events"]])
def test_flags_show_no_value_placeholder(command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "--json" in out or "--follow" in out or "--yes" in out
    assert "<bool>" not in out  # flags take no value


def test_every_simulator_option_is_explained() -> None:
    parser = build_parser()
    unexplained = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert unexplained == []


def test_invoke_names_an_unknown_function_before_looking_for_a_stack(capsys, monkeypatch, tmp_path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(capsys, "invoke", "bogus", "events/poll_input.json")
    assert code == 1
    said = " ".join(err.split())
    assert "no function 'bogus': one of " in said
    assert "submit" in said
    assert "region" not in said
