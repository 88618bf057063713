"""House rules over the whole code base: no import circle, and no long source file without a stated reason.

Import circles: grimp builds the import graph of our packages (every import, also inside functions;
`if TYPE_CHECKING:` imports excluded, they never run); a circle is any module reachable from itself.
File length: a non-test Python file over MAX_LINES lines must say why in a comment among its first lines:
    # Long file: <the reason, in one line>
"""

from __future__ import annotations

import graphlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "i2v",
    "i2v_infra",
    "i2v_cli",
    "i2v_local",
    "benchmarks",
)  # functions/, infrastructure/, cli/, local/, benchmarks/
MAX_LINES = 400
LONG_FILE_REASON = re.compile(r"^#\s*Long file:\s*(?P<reason>\S.{9,})$")
REASON_WITHIN_LINES = 3  # the reason sits at the top: after at most a shebang and a coding line


@pytest.fixture(scope="module")
def import_graph() -> Iterator[grimp.ImportGraph]:
    # benchmarks/ is a top-level package of the repository root, which is not on the test path.
    sys.path.insert(0, str(ROOT))
    try:
        yield grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def find_circle(imports: dict[str, set[str]]) -> list[str] | None:
    """One import circle (first module repeated at the end), or None."""
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as error:
        circle: list[str] = list(reversed(error.args[1]))  # graphlib lists it from importee to importer
        return circle
    return None


def test_the_graph_covers_every_package(import_graph: grimp.ImportGraph) -> None:
    for package in PACKAGES:
        assert import_graph.find_children(package), f"grimp found no module in {package}"


def test_no_import_circle(import_graph: grimp.ImportGraph) -> None:
    imports = {module: import_graph.find_modules_directly_imported_by(module) for module in import_graph.modules}
    circle = find_circle(imports)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_find_circle_reports_a_circle() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    circle = find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert circle is not None
    assert circle[0] == circle[-1]
    assert set(circle) == {"a", "b", "c"}


def source_files() -> list[Path]:
    listed = subprocess.run(  # the tracked and new files, as git sees them (no .venv, no build output)
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if not name.startswith("tests/") and (ROOT / name).is_file()]


def long_file_problem(path: Path) -> str | None:
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) <= MAX_LINES:
        return None
    if any(LONG_FILE_REASON.match(line.strip()) for line in lines[:REASON_WITHIN_LINES]):
        return None
    return f"{len(lines)} lines and no '# Long file: <reason>' at its top"


def test_source_files_are_found() -> None:
    names = {str(path.relative_to(ROOT)) for path in source_files()}
    assert "functions/i2v/domain/polling.py" in names
    assert not any(name.startswith("tests/") for name in names)


def test_no_long_source_file_without_a_reason() -> None:
    problems = [
        f"{path.relative_to(ROOT)}: {problem}" for path in source_files() if (problem := long_file_problem(path))
    ]
    assert not problems, "split these files or state why they are long:\n  " + "\n  ".join(problems)


def test_long_file_rule(tmp_path: Path) -> None:
    body = ['"""A module."""', *(f"x{i} = {i}" for i in range(MAX_LINES))]
    unexplained = tmp_path / "long.py"
    unexplained.write_text("\n".join(body))
    explained = tmp_path / "explained.py"
    explained.write_text("\n".join(["# Long file: one table of every GMI model's contract", *body]))
    short = tmp_path / "short.py"
    short.write_text("\n".join(body[:MAX_LINES]))
    assert long_file_problem(unexplained) is not None
    assert long_file_problem(explained) is None
    assert long_file_problem(short) is None
