"""`make test` must give the same answer on any day: nothing in it may ask a registry or the network what is
true today. The live vulnerability audit is `make audit`, on its own (issue 9)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Commands whose answer depends on the registry's or a vulnerability service's current state.
LIVE_CHECKS = ("audit_lock", "pip-audit", "pip_audit", "--upgrade", "npm audit", "pip index", "outdated")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(target: str) -> str:
    # -B: print every recipe even where the stamps are fresh, so the test sees the whole gate.
    completed = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return completed.stdout


def test_make_test_runs_no_live_check() -> None:
    recipe = dry_run("test")
    for check in ("ruff", "mypy", "bandit", "checkov", "pytest"):
        assert check in recipe, f"the gate lost {check}"
    found = [word for word in LIVE_CHECKS if word in recipe]
    assert not found, f"`make test` runs a check whose answer depends on the day: {found}"


def test_make_audit_runs_the_live_audit() -> None:
    assert "tools/audit_lock.py requirements/lock.txt" in dry_run("audit")


def test_every_pip_is_pinned() -> None:
    # `pip install --upgrade pip` would make the environment (and so the result) depend on the day.
    makefile = (ROOT / "Makefile").read_text()
    assert "--upgrade" not in makefile
    assert "pip==$(PIP_VERSION)" in makefile
