"""requirements/lock.txt is what `make install` installs and `make audit` audits: it must pin every
package exactly and agree with the pins in pyproject.toml (regenerate it with `make lock`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        assert match, f"not an exact pin: {line!r}"
        found[canonical(match.group(1))] = match.group(2)
    return found


def requirement_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_lock_pins_every_package_exactly() -> None:
    lines = requirement_lines(ROOT / "requirements" / "lock.txt")
    assert len(pins(lines)) == len(lines), "a package is pinned twice"
    assert not [line for line in lines if line.startswith("-") or "@" in line], "no editable, URL or option lines"


def test_lock_agrees_with_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    locked = pins(requirement_lines(ROOT / "requirements" / "lock.txt"))
    disagree = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
    assert not disagree, f"pyproject pin -> lock (run `make lock`): {disagree}"


def test_checkov_requirements_are_pinned() -> None:
    locked = pins(requirement_lines(ROOT / "requirements" / "checkov.txt"))
    assert "checkov" in locked
