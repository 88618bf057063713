"""The Lambda asset: our package plus arm64 wheels for the runtime, pinned like the test venv."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any

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
    # PyAV's and Pillow's aarch64 wheels need glibc 2.28; python3.14 runs on Amazon Linux 2023 (glibc 2.34).
    assert lambda_deps.EXTRA_PLATFORMS == ("manylinux_2_28_aarch64",)


# Lambda's limit for a function's deployment package, unzipped (layers included: we have none).
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
AARCH64 = 183  # ELF e_machine of arm64


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def _size(asset: Path) -> int:
    return sum(path.stat().st_size for path in asset.rglob("*") if path.is_file())


def test_the_previews_asset_fits_lambdas_unzipped_limit_with_its_arm64_video_libraries() -> None:
    from i2v_infra.bundling import build_asset

    asset = build_asset(media=True)
    assert _size(asset) < UNZIPPED_LIMIT_BYTES, f"the asset is {_size(asset) / 2**20:.0f} MiB unzipped"
    # The previews function's decoder and encoder, built for arm64 (FFmpeg inside PyAV's wheel).
    assert _elf_machine(asset / "av" / "_core.abi3.so") == AARCH64
    assert [_elf_machine(p) for p in (asset / "PIL").glob("_imaging.*.so")] == [AARCH64]
    assert list((asset / "av.libs").glob("libavcodec-*.so*"))
    assert list(asset.glob("av-*.dist-info"))
    assert (asset / "i2v" / "handlers" / "previews.py").is_file()


def test_the_other_functions_asset_leaves_the_video_libraries_out() -> None:
    from i2v_infra.bundling import MEDIA_ONLY, build_asset

    shared, media = build_asset(), build_asset(media=True)
    assert shared != media
    assert not [name for name in MEDIA_ONLY if (shared / name).exists()]
    assert not list(shared.glob("av-*.dist-info"))
    assert not list(shared.glob("pillow-*.dist-info"))
    assert (shared / "pydantic_core").is_dir()
    assert _size(media) - _size(shared) > 50 * 1024 * 1024  # what every other cold start no longer unpacks


def test_only_the_previews_function_gets_the_media_asset(template_dict: dict[str, Any]) -> None:
    from i2v_infra.template_tools import functions_by_handler

    keys = {
        handler: template_dict["Resources"][logical]["Properties"]["Code"]["S3Key"]
        for handler, logical in functions_by_handler(template_dict).items()
    }
    previews = keys.pop("i2v.handlers.previews.handler")
    assert len(set(keys.values())) == 1
    assert previews not in keys.values()


def test_asset_holds_the_package_and_arm64_wheels() -> None:
    from i2v_infra.bundling import build_asset

    asset = build_asset()
    assert (asset / "i2v" / "handlers").is_dir()
    # The event models the functions build every detail with (i2v.domain.events), as subscribers install them.
    assert (asset / "i2v_events" / "v1" / "details.py").is_file()
    assert (asset / "i2v_events" / "v1" / "kinds" / "succeeded.py").is_file()  # one module per kind (1.2.0)
    assert (asset / "i2v_events" / "py.typed").is_file()
    assert (asset / "requests" / "__init__.py").is_file()
    assert (asset / "aws_lambda_powertools").is_dir()
    assert (asset / "aws_xray_sdk").is_dir()
    native = list((asset / "pydantic_core").glob("_pydantic_core.*.so"))
    assert [p.name for p in native] == ["_pydantic_core.cpython-314-aarch64-linux-gnu.so"]
    assert not (asset / "boto3").exists()
    assert not (asset / "botocore").exists()
    assert not list(asset.rglob("__pycache__"))
    assert build_asset() == asset  # content-addressed: unchanged sources reuse the directory


def test_the_asset_hash_covers_the_event_package(tmp_path: Path) -> None:
    import shutil

    from i2v_infra.bundling import asset_fingerprint
    from i2v_infra.paths import EVENTS_PACKAGE_DIR, LAMBDA_PACKAGE_DIR

    events = tmp_path / "i2v_events"
    shutil.copytree(EVENTS_PACKAGE_DIR, events)
    before = asset_fingerprint(LAMBDA_PACKAGE_DIR, events_dir=events)
    assert before == asset_fingerprint()
    (events / "v1" / "details.py").write_text((events / "v1" / "details.py").read_text() + "# changed\n")
    assert asset_fingerprint(LAMBDA_PACKAGE_DIR, events_dir=events) != before


def test_missing_dependencies_fail_with_instructions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from i2v_infra import bundling, lambda_deps

    monkeypatch.delenv(lambda_deps.DEPS_DIR_ENV, raising=False)
    monkeypatch.setattr(lambda_deps, "DEFAULT_DEPS_DIR", tmp_path / "missing")
    with pytest.raises(bundling.BundlingError, match="Run `make install`"):
        bundling.build_asset()


def test_the_local_stacks_template_needs_no_lambda_wheels(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cdk_template: dict
) -> None:
    """`make demo` runs the handlers from the virtualenv, so it downloads no arm64 wheels (issue 28, stumble 12):
    its template differs from the deployed one in the code asset alone."""
    from i2v_infra import lambda_deps
    from i2v_infra.synth import synthesize

    monkeypatch.delenv(lambda_deps.DEPS_DIR_ENV, raising=False)
    monkeypatch.setattr(lambda_deps, "DEFAULT_DEPS_DIR", tmp_path / "missing")
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
