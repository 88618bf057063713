"""House rules over the whole code base: no import circle, layers that depend inward, and no long source file.

Import circles: grimp builds the import graph of our packages (every import, also inside functions and under
`if TYPE_CHECKING:`: a type a module names is a dependency of it); a circle is any module reachable from itself.
Layers (docs/architecture.md, "Seams"): each layer of the `i2v` package may import only the layers LAYERS allows;
each import against them is named with its line.
File length: no non-test Python file has more than MAX_LINES lines, without exception (split it by
responsibility); every Python file git knows outside tests is checked, and SOURCE_ROOTS must be among them.
"""

from __future__ import annotations

import graphlib
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
# The product, the harness, the CLI, the benchmarks, the packages, the tools and the examples (globs, from ROOT).
SOURCE_ROOTS = (
    "functions",
    "infrastructure",
    "cli",
    "local",
    "benchmarks",
    "packages/*/src",
    "tools",
    "examples",
)


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
    return [ROOT / name for name in listed if "tests" not in Path(name).parts and (ROOT / name).is_file()]


def long_file_problem(path: Path) -> str | None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    return f"{lines} lines (at most {MAX_LINES})" if lines > MAX_LINES else None


def test_source_files_are_found() -> None:
    names = {str(path.relative_to(ROOT)) for path in source_files()}
    assert "functions/i2v/domain/polling.py" in names
    assert not any("tests" in Path(name).parts for name in names)


def test_every_source_root_is_checked() -> None:
    found = source_files()
    for pattern in SOURCE_ROOTS:
        roots = sorted(ROOT.glob(pattern))
        assert roots, f"{pattern} matches no directory"
        for root in roots:
            assert any(root in path.parents for path in found), f"no Python file of {root.relative_to(ROOT)} is checked"


def test_no_long_source_file() -> None:
    problems = [
        f"{path.relative_to(ROOT)}: {problem}" for path in source_files() if (problem := long_file_problem(path))
    ]
    assert not problems, "split these files by responsibility:\n  " + "\n  ".join(problems)


def test_long_file_rule(tmp_path: Path) -> None:
    body = ['"""A module."""', *(f"x{i} = {i}" for i in range(MAX_LINES))]
    unexplained = tmp_path / "long.py"
    unexplained.write_text("\n".join(body))
    explained = tmp_path / "explained.py"  # the exemption comment of before: no longer an exemption
    explained.write_text("\n".join(["# Long file: one table of every GMI model's contract", *body]))
    short = tmp_path / "short.py"
    short.write_text("\n".join(body[:MAX_LINES]))
    assert long_file_problem(unexplained) is not None
    assert long_file_problem(explained) is not None
    assert long_file_problem(short) is None


# What each layer of `i2v` may import of our packages (itself always). Dependencies point inward: handlers (the
# composition root) -> services -> domain; adapters implement the services' ports (services/ports.py) with domain
# types only; config (the functions' environments) is an edge read by the handlers alone.
LAYERS: dict[str, frozenset[str]] = {
    "i2v.domain": frozenset(),
    "i2v.services": frozenset({"i2v.domain"}),
    "i2v.adapters": frozenset({"i2v.domain"}),
    "i2v.config": frozenset({"i2v.domain"}),
    "i2v.handlers": frozenset({"i2v.domain", "i2v.services", "i2v.adapters", "i2v.config"}),
}


def layer_of(module: str) -> str:
    """The layer a module belongs to: `i2v.<layer>`; `i2v` itself, or a module of another package, as is."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "i2v" and len(parts) > 1 else module


def layer_violations(graph: grimp.ImportGraph, layers: dict[str, frozenset[str]]) -> list[str]:
    """Every import that crosses the layers against `layers`: "importer -> imported (line N)"."""
    found = []
    for importer in sorted(graph.modules):
        own = layer_of(importer)
        if own not in layers:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            target = layer_of(imported)
            if target == own or target == "i2v" or target in layers[own]:
                continue
            for detail in graph.get_import_details(importer=importer, imported=imported):
                found.append(f"{importer} -> {imported} (line {detail['line_number']})")
    return found


def test_every_module_of_i2v_has_a_layer(import_graph: grimp.ImportGraph) -> None:
    orphans = {layer_of(m) for m in import_graph.find_children("i2v")} - set(LAYERS)
    assert not orphans, f"modules of i2v outside every layer of LAYERS: {sorted(orphans)}"


def test_layers_depend_inward(import_graph: grimp.ImportGraph) -> None:
    violations = layer_violations(import_graph, LAYERS)
    assert not violations, f"{len(violations)} imports against the layers:\n  " + "\n  ".join(violations)


def test_layer_violations_are_named_with_their_line() -> None:
    graph = grimp.ImportGraph()
    for importer, imported, line in (
        ("i2v.adapters.b", "i2v.domain.a", 1),  # inward: allowed
        ("i2v.services.c", "i2v.domain.a", 2),  # inward: allowed
        ("i2v.services.c", "i2v.adapters.b", 4),  # outward: named
        ("i2v.domain.a", "i2v", 1),  # the package itself: allowed
    ):
        graph.add_import(importer=importer, imported=imported, line_number=line, line_contents="import ...")
    assert layer_violations(graph, LAYERS) == ["i2v.services.c -> i2v.adapters.b (line 4)"]


# The composition root: only handlers/wiring.py reads the environment models and builds adapters; the other
# handler modules parse, call their service and return (adapters.aws only for its AWS-errors-are-transient scope).
COMPOSITION_ROOT = "i2v.handlers.wiring"
HANDLERS_MAY_USE = frozenset({"i2v.adapters.aws"})


def test_only_the_composition_root_builds(import_graph: grimp.ImportGraph) -> None:
    builders = sorted(
        f"{importer} -> {imported}"
        for importer in import_graph.find_children("i2v.handlers") - {COMPOSITION_ROOT}
        for imported in import_graph.find_modules_directly_imported_by(importer)
        if layer_of(imported) in ("i2v.config", "i2v.adapters") and imported not in HANDLERS_MAY_USE
    )
    assert not builders, "handler modules that build instead of asking i2v.handlers.wiring:\n  " + "\n  ".join(builders)
