"""The Lambda assets, assembled locally (no Docker) at synth time: one shared by the pipeline's functions, and
the same plus the video libraries (PyAV with its FFmpeg, Pillow: about 115 MB unpacked) for the previews function
alone, so they never slow the other functions' cold starts.

Layout of the asset directory::

    i2v/                 <- functions/i2v (the handlers, services, domain, adapters)
    i2v_events/          <- packages/i2v-events/src/i2v_events (the event models every detail is built with)
    requests/, pydantic/, pydantic_core/ (cp314 aarch64), aws_lambda_powertools/, ...
                         <- .build/lambda-deps, downloaded once by `make install`

boto3/botocore are not bundled: the Lambda runtime provides them. The directory is content-addressed
(`.build/lambda-asset/<hash>`), built in a temporary directory and renamed into place, so concurrent
synths (pytest workers) never see a half-written asset and an unchanged tree is not copied again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from i2v_infra import lambda_deps
from i2v_infra.paths import BUILD_DIR, EVENTS_PACKAGE_DIR, LAMBDA_PACKAGE_DIR

ASSET_ROOT = BUILD_DIR / "lambda-asset"
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")
_STALE_AFTER_SECONDS = 24 * 3600
# Top-level entries of the dependencies that only the previews function needs (its `media` asset).
MEDIA_ONLY = ("av", "av.libs", "PIL", "pillow.libs")
_MEDIA_DIST_INFO = ("av-", "pillow-")


class BundlingError(RuntimeError):
    """The asset cannot be assembled (usually: `make install` has not downloaded the dependencies)."""


def _files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith(_SKIP_SUFFIXES):
                yield Path(dirpath) / name


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP_DIRS or n.endswith(_SKIP_SUFFIXES) or n == lambda_deps.STAMP.name}


def _is_media(name: str) -> bool:
    return name in MEDIA_ONLY or (name.startswith(_MEDIA_DIST_INFO) and name.endswith(".dist-info"))


def _ignore_media(directory: str, names: list[str]) -> set[str]:
    top = Path(directory) == lambda_deps.DEPS_DIR
    return _ignore(directory, names) | ({n for n in names if _is_media(n)} if top else set())


def check_dependencies() -> None:
    if not lambda_deps.is_current():
        raise BundlingError(
            f"Lambda dependencies are missing or out of date in {lambda_deps.DEPS_DIR} "
            f"(for python{lambda_deps.LAMBDA_PYTHON_VERSION} on {lambda_deps.LAMBDA_PLATFORM}). "
            "Run `make install` (it downloads them once from PyPI), then synth again."
        )


def asset_fingerprint(
    package_dir: Path = LAMBDA_PACKAGE_DIR, media: bool = False, events_dir: Path = EVENTS_PACKAGE_DIR
) -> str:
    """Hash of our two packages' files plus the dependency stamp (which pins every wheel) and the variant."""
    digest = hashlib.sha256(lambda_deps.expected_stamp().encode() + (b"\0media" if media else b"\0shared"))
    for name, root in (("i2v", package_dir), ("i2v_events", events_dir)):
        for path in _files(root):
            digest.update(f"{name}/{path.relative_to(root).as_posix()}".encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def build_asset(package_dir: Path = LAMBDA_PACKAGE_DIR, media: bool = False) -> Path:
    """Assemble (or reuse) the asset directory and return its path; `media` keeps the video libraries."""
    check_dependencies()
    if not (package_dir / "handlers").is_dir():
        raise BundlingError(f"{package_dir} does not look like the i2v Lambda package (no handlers/)")
    target = ASSET_ROOT / asset_fingerprint(package_dir, media)
    if target.is_dir():
        os.utime(target)  # recently used: keeps _prune_stale of another version away from it
        return target
    ASSET_ROOT.mkdir(parents=True, exist_ok=True)
    tmp = ASSET_ROOT / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(lambda_deps.DEPS_DIR, tmp, ignore=_ignore if media else _ignore_media)
        shutil.copytree(package_dir, tmp / "i2v", ignore=_ignore)
        shutil.copytree(EVENTS_PACKAGE_DIR, tmp / "i2v_events", ignore=_ignore)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():  # pragma: no cover - a real failure, not a lost race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune_stale(keep=target)
    return target


def _prune_stale(keep: Path) -> None:
    """Best effort: drop asset directories nobody has built for a day (old code versions)."""
    cutoff = time.time() - _STALE_AFTER_SECONDS
    for entry in ASSET_ROOT.iterdir():
        try:
            if entry != keep and entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def lambda_code(media: bool = False) -> lambda_.Code:
    """`lambda.Code` for the shared asset, or with `media` the previews function's (CDK de-duplicates by hash)."""
    return lambda_.Code.from_asset(str(build_asset(media=media)))


def local_only_code() -> lambda_.Code:
    """Our package alone, without the arm64 dependencies: for a template that only the local stack reads (it runs
    the handlers from this virtualenv, never the asset), so `make demo` needs no Lambda wheels. Never deployed."""
    return lambda_.Code.from_asset(str(LAMBDA_PACKAGE_DIR), exclude=["__pycache__", "*.pyc"])
