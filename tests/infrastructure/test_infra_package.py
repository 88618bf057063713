"""packages/i2v-pipeline-cdk: the construct as an installable package (issue 27, item 1).

The must-show: in a fresh venv, `pip install packages/i2v-pipeline-cdk` with no index, then the synth of a 20-line
app that uses it, from nothing but the package and its declared dependencies.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("cdk")

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "packages" / "i2v-pipeline-cdk"
PYPROJECT = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
HANDLERS = ("submit", "poll", "watch", "complete", "fail", "sweeper", "previews")


def _backend() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i2v_build", PACKAGE / "backend" / "i2v_build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_wheel(project_dir: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with monkeypatch.context() as patch:
        patch.chdir(project_dir)  # PEP 517 runs the hooks in the project directory
        return out / _backend().build_wheel(str(out))


# ---- the wheel ------------------------------------------------------------------------------------------------


def test_the_wheel_packs_the_construct_with_the_code_it_deploys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _build_wheel(PACKAGE, tmp_path, monkeypatch)
    assert wheel.name == "i2v_pipeline_cdk-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        files = {name: archive.read(name) for name in names}
    for handler in HANDLERS:
        assert (
            files[f"i2v/handlers/{handler}.py"] == (REPO_ROOT / "functions/i2v/handlers" / f"{handler}.py").read_bytes()
        )
    assert (
        files["i2v_infra/constructs/pipeline.py"]
        == (REPO_ROOT / "infrastructure/i2v_infra/constructs/pipeline.py").read_bytes()
    )
    assert "i2v_events/py.typed" in names
    assert "i2v_events/samples/succeeded.json" in names
    assert "i2v_events/v1/kinds/succeeded.py" in names  # one module per kind (i2v-events 1.2.0)
    assert {"i2v_pipeline_cdk/__init__.py", "i2v_pipeline_cdk/py.typed"} <= names
    # What an installed construct reads instead of the checkout: the Lambda requirement list and cdk.json's flags.
    assert (
        files["i2v_infra/lambda-requirements.txt"]
        == (REPO_ROOT / "infrastructure/lambda-requirements.txt").read_bytes()
    )
    assert files["i2v_infra/cdk.json"] == (REPO_ROOT / "cdk.json").read_bytes()
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("tests/", "local/"))]

    dist_info = "i2v_pipeline_cdk-0.1.0.dist-info"
    meta = files[f"{dist_info}/METADATA"].decode()
    assert re.findall(r"^Requires-Dist: (.+)$", meta, flags=re.MULTILINE) == PYPROJECT["project"]["dependencies"]
    assert "Name: i2v-pipeline-cdk" in meta
    # Every file is in RECORD with its hash (pip verifies nothing, but other installers do).
    record = {line.split(",")[0]: line.split(",")[1] for line in files[f"{dist_info}/RECORD"].decode().splitlines()}
    assert set(record) == names
    for name, digest in record.items():
        if name != f"{dist_info}/RECORD":
            expected = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}", name


def test_a_wheel_built_from_the_sdist_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sdist carries its own copy of everything under src/, so it builds away from the repository."""
    direct = _build_wheel(PACKAGE, tmp_path / "direct", monkeypatch)
    with monkeypatch.context() as patch:
        patch.chdir(PACKAGE)
        sdist = tmp_path / _backend().build_sdist(str(tmp_path))
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    from_sdist = _build_wheel(tmp_path / "unpacked" / "i2v_pipeline_cdk-0.1.0", tmp_path / "from-sdist", monkeypatch)
    assert from_sdist.read_bytes() == direct.read_bytes()


# ---- props, Lambda dependencies, feature flags --------------------------------------------------------------


def test_keyword_props_are_the_config_models_keys() -> None:
    from i2v_infra.config import ConfigError, PipelineConfig

    base = PipelineConfig(model_id="kling-v2-6", submit_concurrency=3)
    merged = PipelineConfig.with_props(base, {"submit_concurrency": 8, "input_prefix": "uploads/"})
    assert (merged.model_id, merged.submit_concurrency, merged.input_prefix) == ("kling-v2-6", 8, "uploads/")
    assert PipelineConfig.with_props(None, {}) == PipelineConfig()
    assert PipelineConfig.with_props(base, {}) is base
    with pytest.raises(
        ConfigError, match=r"construct props\):\n  props\.submit_concurrency: .*greater than or equal to 2"
    ):
        PipelineConfig.with_props(None, {"submit_concurrency": 1})
    with pytest.raises(ConfigError, match=r"props\.modle_id: Extra inputs are not permitted"):
        PipelineConfig.with_props(None, {"modle_id": "kling-v2-6"})


def test_the_construct_takes_keyword_props() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from i2v_pipeline_cdk import ConfigError, ImageToVideoPipeline, PipelineConfig

    code = lambda_.Code.from_inline("def handler(event, context):\n    return None\n")
    stack = cdk.Stack(cdk.App(), "Theirs")
    pipeline = ImageToVideoPipeline(
        stack, "I2v", config=PipelineConfig(model_id="kling-v2-6"), code=code, input_prefix="uploads/"
    )
    assert (pipeline.config.model_id, pipeline.config.input_prefix) == ("kling-v2-6", "uploads/")
    with pytest.raises(ConfigError, match=r"props\.watch_concurrency"):
        ImageToVideoPipeline(stack, "Bad", code=code, watch_concurrency=0)


def test_a_given_dependency_dir_must_be_filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from i2v_infra import lambda_deps

    monkeypatch.delenv(lambda_deps.DEPS_DIR_ENV, raising=False)
    with pytest.raises(
        lambda_deps.DependenciesError, match=r"python -m i2v_pipeline_cdk\.lambda_deps --target .*empty"
    ):
        lambda_deps.ensure(tmp_path / "empty")
    monkeypatch.setenv(lambda_deps.DEPS_DIR_ENV, str(tmp_path / "from-env"))
    with pytest.raises(lambda_deps.DependenciesError, match="from-env does not hold"):
        lambda_deps.ensure()
    filled = tmp_path / "filled"
    filled.mkdir()
    (filled / lambda_deps.STAMP_NAME).write_text(lambda_deps.expected_stamp())
    assert lambda_deps.ensure(filled) == filled  # the given one beats the environment's


def test_the_default_dir_is_make_installs_in_a_checkout_and_downloaded_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from i2v_infra import lambda_deps

    monkeypatch.delenv(lambda_deps.DEPS_DIR_ENV, raising=False)
    monkeypatch.setattr(lambda_deps, "DEFAULT_DEPS_DIR", tmp_path / "cache" / "lambda-deps")
    downloads: list[tuple[str, Path]] = []

    def download(pip_python: str, target: Path, *, force: bool = False) -> None:
        downloads.append((pip_python, target))
        target.mkdir(parents=True)
        (target / lambda_deps.STAMP_NAME).write_text(lambda_deps.expected_stamp())

    monkeypatch.setattr(lambda_deps, "build", download)
    with pytest.raises(lambda_deps.DependenciesError, match="Run `make install`"):
        lambda_deps.ensure()
    assert downloads == []
    monkeypatch.setattr(lambda_deps, "INSTALLED", True)
    assert lambda_deps.ensure() == tmp_path / "cache" / "lambda-deps"
    assert lambda_deps.ensure() == tmp_path / "cache" / "lambda-deps"
    assert downloads == [(sys.executable, tmp_path / "cache" / "lambda-deps")]  # once


def test_the_construct_brings_the_feature_flags_it_is_tested_with_unless_the_app_sets_them() -> None:
    import aws_cdk as cdk
    from constructs import Construct

    from i2v_infra.feature_flags import apply_feature_flags, feature_flags

    flags = feature_flags()
    assert flags["@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"] is True
    assert "i2v" not in flags
    app = cdk.App(context={"@aws-cdk/aws-iam:minimizePolicies": False})
    scope = Construct(cdk.Stack(app, "Theirs"), "Pipeline")
    apply_feature_flags(scope.node)
    assert scope.node.try_get_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy") is True
    assert scope.node.try_get_context("@aws-cdk/aws-iam:minimizePolicies") is False  # the app's value


# ---- the must-show: a fresh venv, pip install, a 20-line app, synth -------------------------------------------

USER_APP = """\
import aws_cdk as cdk
from constructs import Construct

from i2v_pipeline_cdk import ImageToVideoPipeline, PipelineConfig


class TeamVideos(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        pipeline = ImageToVideoPipeline(
            self, "I2v", config=PipelineConfig(input_prefix="uploads/", submit_concurrency=4)
        )
        cdk.CfnOutput(self, "InputBucket", value=pipeline.storage.input_bucket.bucket_name)


app = cdk.App()
TeamVideos(app, "TeamVideos")
app.synth()
"""


def test_the_readmes_show_the_app_the_suite_synthesizes() -> None:
    for readme in (REPO_ROOT / "README.md", PACKAGE / "README.md"):
        assert f"```python\n{USER_APP}```" in readme.read_text(), readme


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_closure() -> list[metadata.Distribution]:
    """The installed distributions the package's declared dependencies pull in (nothing else)."""
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    todo = list(PYPROJECT["project"]["dependencies"])
    while todo:
        requirement = Requirement(todo.pop())
        if _canonical(requirement.name) in found:
            continue
        dist = metadata.distribution(requirement.name)
        assert requirement.specifier.contains(dist.version), f"{requirement} does not admit {dist.version}"
        found[_canonical(requirement.name)] = dist
        for sub in dist.requires or []:
            if not Requirement(sub).marker or Requirement(sub).marker.evaluate({"extra": ""}):  # type: ignore[union-attr]
                todo.append(sub)
    return list(found.values())


def _offline_site(farm: Path) -> None:
    """Link the declared closure's files from this venv into `farm`: the fresh venv sees exactly those (no index
    holds aws-cdk-lib's wheel offline, and pip cannot re-wheel an installed distribution)."""
    farm.mkdir()
    for dist in _declared_closure():
        root = Path(str(dist.locate_file("")))
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] not in ("..", "__pycache__")}:
            if not (farm / top).exists():
                (farm / top).symlink_to(root / top)


@pytest.mark.slow
def test_pip_install_then_synth_a_20_line_app_in_a_fresh_venv(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "jsii needs Node.js"
    deps = REPO_ROOT / ".build" / "lambda-deps"
    assert (deps / ".stamp").is_file(), "make install fills .build/lambda-deps"
    venv, home = tmp_path / "venv", tmp_path / "home"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # pip from ensurepip, no setuptools>=70
    python = venv / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    _offline_site(tmp_path / "deps")
    (site / "declared-deps.pth").write_text(f"{tmp_path / 'deps'}\n")
    env = {
        "PATH": os.pathsep.join([str(venv / "bin"), str(Path(node).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PIP_CONFIG_FILE": os.devnull,  # this machine's pip settings (indexes, find-links) play no part
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--disable-pip-version-check", str(PACKAGE)],
        check=False, env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    assert "Successfully installed i2v-pipeline-cdk-0.1.0" in install.stdout

    app_dir = tmp_path / "team-app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(USER_APP)
    assert len(USER_APP.splitlines()) <= 20
    out = app_dir / "cdk.out"
    # The pre-filled Lambda dependencies (no PyPI here); the construct's own download path is tested above.
    synth_env = {**env, "CDK_OUTDIR": str(out), "I2V_LAMBDA_DEPS_DIR": str(deps)}
    synth = subprocess.run([python, "app.py"], check=False, env=synth_env, cwd=app_dir, capture_output=True, text=True)
    assert synth.returncode == 0, synth.stdout + synth.stderr[-4000:]

    where = subprocess.run(
        [python, "-c", "import i2v, i2v_events, i2v_infra, i2v_pipeline_cdk; print(i2v.__file__, i2v_infra.__file__)"],
        env=env, cwd=app_dir, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert all(path.startswith(str(site)) for path in where.stdout.split()), where.stdout  # not the checkout

    template: dict[str, Any] = json.loads((out / "TeamVideos.template.json").read_text())
    assets = json.loads((out / "TeamVideos.assets.json").read_text())["files"]
    functions = {
        r["Properties"]["Handler"]: assets[r["Properties"]["Code"]["S3Key"].removesuffix(".zip")]["source"]["path"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler", "").startswith("i2v.handlers.")
    }
    assert set(functions) == {f"i2v.handlers.{name}.handler" for name in HANDLERS}
    for handler, asset in functions.items():
        code = out / asset
        module = handler.split(".")[2]
        # The function code is the installed package's, which is this commit's.
        assert (code / "i2v" / "handlers" / f"{module}.py").read_bytes() == (
            site / "i2v" / "handlers" / f"{module}.py"
        ).read_bytes()
        assert (site / "i2v" / "handlers" / f"{module}.py").read_bytes() == (
            REPO_ROOT / "functions" / "i2v" / "handlers" / f"{module}.py"
        ).read_bytes()
        assert (code / "i2v_events" / "v1" / "details.py").read_bytes() == (
            site / "i2v_events" / "v1" / "details.py"
        ).read_bytes()
        assert (code / "pydantic_core").is_dir()  # with its arm64 dependencies
    # Installed, the construct assembles its assets in the user's cache, not in a checkout's .build/.
    assert list((home / ".cache" / "i2v-pipeline-cdk" / "lambda-asset").iterdir())
    notifications = [r for r in template["Resources"].values() if r["Type"] == "Custom::S3BucketNotifications"]
    filters = json.dumps(notifications)
    assert '"uploads/"' in filters
