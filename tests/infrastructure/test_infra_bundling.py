"""The Lambda asset: our package plus arm64 wheels for the runtime, pinned like the test venv."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("cdk")

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "infrastructure" / "lambda-requirements.txt"
# Provided by the Lambda runtime (not bundled): pulled in by aws-xray-sdk only.
RUNTIME_PROVIDED = {"botocore", "boto3", "s3transfer"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version.strip()
    return pins


def test_pins_equal_the_versions_the_tests_run_with() -> None:
    for name, version in pinned().items():
        assert metadata.version(name) == version, f"{name}: lambda-requirements.txt and the venv disagree"


def test_pins_cover_the_runtime_dependencies_of_pyproject() -> None:
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, version = re.split(r"==", re.sub(r"\[.*\]", "", requirement))
        if _canonical(name) in RUNTIME_PROVIDED:
            continue
        assert pinned()[_canonical(name)] == version


def test_pins_are_a_closed_set() -> None:
    """Installed with --no-deps, so every (non-extra) dependency of a pinned package must be pinned too."""
    pins = pinned()
    for name in pins:
        for requirement in metadata.requires(name) or []:
            if "extra ==" in requirement:
                continue
            marker = requirement.split(";", 1)[1] if ";" in requirement else ""
            if "python_version <" in marker:
                continue  # only for older Pythons than the Lambda runtime
            dep = _canonical(re.split(r"[ <>=!~;\[(]", requirement, maxsplit=1)[0])
            assert dep in pins or dep in RUNTIME_PROVIDED, f"{name} needs {dep}, which is not pinned"


def test_runtime_matches_the_wheels() -> None:
    from i2v_infra import lambda_deps
    from i2v_infra.constructs.functions import ARCHITECTURE, RUNTIME

    assert RUNTIME.name == f"python{lambda_deps.LAMBDA_PYTHON_VERSION}"
    assert ARCHITECTURE.name == "arm64"
    assert lambda_deps.LAMBDA_PLATFORM == "manylinux2014_aarch64"


def test_asset_holds_the_package_and_arm64_wheels() -> None:
    from i2v_infra.bundling import build_asset

    asset = build_asset()
    assert (asset / "i2v" / "handlers").is_dir()
    assert (asset / "requests" / "__init__.py").is_file()
    assert (asset / "aws_lambda_powertools").is_dir()
    assert (asset / "aws_xray_sdk").is_dir()
    native = list((asset / "pydantic_core").glob("_pydantic_core.*.so"))
    assert [p.name for p in native] == ["_pydantic_core.cpython-314-aarch64-linux-gnu.so"]
    assert not (asset / "boto3").exists()
    assert not (asset / "botocore").exists()
    assert not list(asset.rglob("__pycache__"))
    assert build_asset() == asset  # content-addressed: unchanged sources reuse the directory


def test_missing_dependencies_fail_with_instructions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from i2v_infra import bundling, lambda_deps

    monkeypatch.setattr(lambda_deps, "STAMP", tmp_path / "missing" / ".stamp")
    with pytest.raises(bundling.BundlingError, match="Run `make install`"):
        bundling.build_asset()


def test_the_local_stacks_template_needs_no_lambda_wheels(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cdk_template: dict
) -> None:
    """`make demo` runs the handlers from the virtualenv, so it downloads no arm64 wheels (issue 28, stumble 12):
    its template differs from the deployed one in the code asset alone."""
    from i2v_infra import lambda_deps
    from i2v_infra.synth import synthesize

    monkeypatch.setattr(lambda_deps, "STAMP", tmp_path / "missing" / ".stamp")
    local = synthesize(tmp_path / "out", nag=False, local_only=True).template

    def without_code(template: dict) -> dict:
        resources = {}
        for name, resource in template["Resources"].items():
            properties = {k: v for k, v in resource.get("Properties", {}).items() if k != "Code"}
            resources[name] = {**resource, "Properties": properties, "Metadata": None}
        return resources

    assert without_code(local) == without_code(cdk_template)
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert re.search(r"^demo: \$\(VENV\)/\.installed$", makefile, flags=re.MULTILINE), "make demo must not need them"
