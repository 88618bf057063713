"""A PEP 517 build backend (standard library only) that packs the construct with the code it deploys.

Why not setuptools: the wheel's packages live where the repository keeps them (functions/i2v, infrastructure/i2v_infra,
packages/i2v-events/src/i2v_events), outside this project directory, and the setuptools available offline (65.5,
Python 3.11's ensurepip) cannot build a wheel without the separate `wheel` package. This backend needs nothing:
`pip install packages/i2v-pipeline-cdk` works with no index at all.

`[tool.i2v-build] include` in pyproject.toml maps each path in the wheel to its place in the repository; an sdist
carries a copy of each under `src/`, which wins, so a wheel built from the sdist has the same files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same wheel


def _project_dir() -> Path:
    return Path.cwd()  # PEP 517: hooks run in the project's root directory


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((_project_dir() / "pyproject.toml").read_text())


def _dist_name(project: dict[str, Any]) -> str:
    return str(project["name"]).replace("-", "_")


def _metadata(pyproject: dict[str, Any]) -> str:
    project = pyproject["project"]
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
        *(f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])),
    ]
    if "license" in project:
        lines.append(f"License: {project['license']['text']}")
    readme = _project_dir() / str(project["readme"])
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme.read_text()


def _walk(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if not name.endswith(_SKIP_SUFFIXES):
                yield Path(dirpath) / name


def _sources(pyproject: dict[str, Any]) -> dict[str, Path]:
    """Path in the wheel -> file on disk, for every file the wheel ships."""
    files: dict[str, Path] = {}
    for dest, origin in pyproject["tool"]["i2v-build"]["include"].items():
        copied = _project_dir() / "src" / dest
        root = copied if copied.exists() else (_project_dir() / origin).resolve()
        if not root.exists():
            raise FileNotFoundError(f"{dest}: neither src/{dest} nor {origin} exists")
        for path in _walk(root):
            arcname = dest if root.is_file() else f"{dest}/{path.relative_to(root).as_posix()}"
            files[arcname] = path
    return dict(sorted(files.items()))


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _write_dist_info(directory: Path, pyproject: dict[str, Any]) -> str:
    project = pyproject["project"]
    name = f"{_dist_name(project)}-{project['version']}.dist-info"
    (directory / name).mkdir(parents=True, exist_ok=True)
    (directory / name / "METADATA").write_text(_metadata(pyproject))
    return name


# ---- PEP 517 hooks ----------------------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    return _write_dist_info(Path(metadata_directory), _pyproject())


def build_wheel(
    wheel_directory: str, config_settings: dict[str, Any] | None = None, metadata_directory: str | None = None
) -> str:
    pyproject = _pyproject()
    project = pyproject["project"]
    dist_info = f"{_dist_name(project)}-{project['version']}.dist-info"
    filename = f"{_dist_name(project)}-{project['version']}-py3-none-any.whl"
    entries = [(arcname, path.read_bytes()) for arcname, path in _sources(pyproject).items()]
    entries.append((f"{dist_info}/METADATA", _metadata(pyproject).encode()))
    wheel = "Wheel-Version: 1.0\nGenerator: i2v_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries.append((f"{dist_info}/WHEEL", wheel.encode()))
    record = [_record_line(arcname, data) for arcname, data in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return filename


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """A self-contained sdist: this project plus a copy of each included package under src/."""
    pyproject = _pyproject()
    project = pyproject["project"]
    base = f"{_dist_name(project)}-{project['version']}"
    files = {f"src/{arcname}": path for arcname, path in _sources(pyproject).items()}
    here = _project_dir()
    for path in [here / "pyproject.toml", here / project["readme"], *_walk(here / "backend")]:
        files[path.relative_to(here).as_posix()] = path
    filename = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / filename, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        members = [(name, path.read_bytes()) for name, path in sorted(files.items())]
        members.append(("PKG-INFO", _metadata(pyproject).encode()))
        for name, data in members:
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return filename
