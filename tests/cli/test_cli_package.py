"""The CLI is its own package (issue 26): the commands that act on a deployment import and run without moto or
the GMI simulator; `demo`, `local up` and `simulate` come with the local harness, through the `i2v_cli.plugins`
entry points.

Each case runs `python -m i2v_cli` in a fresh interpreter. A sitecustomize on its path refuses the imports named
in I2V_BLOCKED, as if those packages were not installed; the entry points are the ones pyproject.toml declares
(written as the package's metadata first on the path), not whatever the shared virtualenv last installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT_COMMANDS = (
    "submit",
    "status",
    "list",
    "watch",
    "fetch",
    "retry",
    "reconcile",
    "events",
    "models",
    "estimate",
    "gallery",
    "invoke",
)
HARNESS_COMMANDS = ("demo", "local", "simulate")
BLOCKER = """
import os, sys

BLOCKED = [name for name in os.environ.get("I2V_BLOCKED", "").split(",") if name]


class Blocker:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the blocker and the root project's metadata (its console script and entry points)."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "sitecustomize.py").write_text(BLOCKER)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    info = folder / f"i2v_pipeline-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = {"console_scripts": project["scripts"], **project["entry-points"]}
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) for group, entries in groups.items()
        )
    )
    return folder


def i2v(site: Path, blocked: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    paths = [str(site), *(str(ROOT / p) for p in ("cli", "functions", "local", "packages/i2v-events/src"))]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "I2V_"))},
        "PYTHONPATH": os.pathsep.join(paths),
        "I2V_BLOCKED": ",".join(blocked),
        "I2V_STATE_DIR": str(site / "state"),  # no local stack runs there
        "COLUMNS": "200",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return subprocess.run(
        [sys.executable, "-m", "i2v_cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def listed(help_text: str) -> set[str]:
    """The command names of `i2v --help` (rich's table rows: `│ name   help …`)."""
    return {line.split()[1] for line in help_text.splitlines() if line.startswith("│ ") and len(line.split()) > 1}


@pytest.mark.parametrize(
    "blocked", [("moto", "i2v_local.simulator"), ("moto", "i2v_local")], ids=["no-moto", "no-harness"]
)
def test_deployment_commands_need_neither_moto_nor_the_simulator(site: Path, blocked: tuple[str, ...]) -> None:
    shown = i2v(site, blocked, "--help")
    assert shown.returncode == 0, shown.stderr
    commands = listed(shown.stdout)
    assert set(DEPLOYMENT_COMMANDS) <= commands, shown.stdout
    assert not commands & set(HARNESS_COMMANDS), shown.stdout

    models = i2v(site, blocked, "models", "--json")  # runs offline: the catalog and its documented prices
    assert models.returncode == 0, models.stderr
    assert "kling-3.0-turbo-i2v" in models.stdout

    # Acting on a deployment: with no AWS configured, a one-line refusal, not an import error.
    status = i2v(site, blocked, "status", "some-job", "--target", "aws")
    assert status.returncode == 1, status.stderr
    assert "error:" in status.stderr
    assert "region" in status.stderr or "credentials" in status.stderr
    assert "Traceback" not in status.stderr
    assert "ModuleNotFoundError" not in status.stdout + status.stderr


def test_the_harness_adds_its_commands_where_it_is_installed(site: Path) -> None:
    shown = i2v(site, (), "--help")
    assert shown.returncode == 0, shown.stderr
    assert set(DEPLOYMENT_COMMANDS) | set(HARNESS_COMMANDS) <= listed(shown.stdout), shown.stdout
    local = i2v(site, (), "local", "--help")
    assert local.returncode == 0, local.stderr
    assert "up" in listed(local.stdout)


def test_the_installed_entry_points_are_the_declared_ones() -> None:
    """`i2v` (the console script) and the in-process CLI tests use the virtualenv's metadata, written by
    `pip install -e .`: it must say what pyproject.toml says."""
    from importlib.metadata import entry_points

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {**project["entry-points"]["i2v_cli.plugins"], "i2v": project["scripts"]["i2v"]}
    installed = {entry.name: entry.value for entry in entry_points(group="i2v_cli.plugins")}
    installed |= {entry.name: entry.value for entry in entry_points(group="console_scripts", name="i2v")}
    assert installed == declared, "the virtualenv's entry points are stale: run `.venv/bin/pip install --no-deps -e .`"


def test_the_cli_imports_nothing_of_the_harness_nor_moto() -> None:
    """Every import, also those inside functions (a command's lazy import runs only when it is used)."""
    import grimp

    graph = grimp.build_graph(
        "i2v_cli", "i2v", "i2v_local", include_external_packages=True, exclude_type_checking_imports=True
    )
    for forbidden in ("i2v_local", "moto"):
        chain = graph.find_shortest_chain(importer="i2v_cli", imported=forbidden, as_packages=True)
        assert chain is None, f"the CLI imports {forbidden}: {' -> '.join(chain or ())}"
