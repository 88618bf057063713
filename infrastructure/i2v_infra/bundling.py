"""The Lambda assets, assembled locally (no Docker) at synth time: one shared by the pipeline's functions, and
the same plus the video libraries (PyAV with its FFmpeg, Pillow: about 115 MB unpacked) for the previews function
alone, so they never slow the other functions' cold starts.

Layout of the asset directory::

    i2v/                 <- the importable `i2v` package (functions/i2v in a checkout, site-packages when installed)
    i2v_events/          <- the importable `i2v_events` (packages/i2v-events/src/i2v_events in a checkout)
    requests/, pydantic/, pydantic_core/ (cp314 aarch64), aws_lambda_powertools/, ...
                         <- the Lambda dependencies (i2v_infra.lambda_deps: .build/lambda-deps, filled by
                            `make install`; an installed construct's cache or a directory it is given)

boto3/botocore are not bundled: the Lambda runtime provides them. The directory is content-addressed
(`<BUILD_DIR>/lambda-asset/<hash>`, i2v_infra.paths), built in a temporary directory and renamed into place, so
concurrent synths (pytest workers) never see a half-written asset and an unchanged tree is not copied again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from os import PathLike
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


DepsDir = str | PathLike[str] | None


class BundlingError(RuntimeError):
    """The asset cannot be assembled (usually: the Lambda dependencies are missing and cannot be downloaded)."""


def _files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith(_SKIP_SUFFIXES):
                yield Path(dirpath) / name


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP_DIRS or n.endswith(_SKIP_SUFFIXES) or n == lambda_deps.STAMP_NAME}


def _is_media(name: str) -> bool:
    return name in MEDIA_ONLY or (name.startswith(_MEDIA_DIST_INFO) and name.endswith(".dist-info"))


def _ignore_media(deps: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        top = Path(directory) == deps
        return _ignore(directory, names) | ({n for n in names if _is_media(n)} if top else set())

    return ignore


def check_dependencies(deps_dir: DepsDir = None) -> Path:
    """The Lambda dependency directory, ready (downloaded first if an installed construct has none yet)."""
    try:
        return lambda_deps.ensure(deps_dir)
    except lambda_deps.DependenciesError as exc:
        raise BundlingError(str(exc)) from None


def asset_fingerprint(
    package_dir: Path = LAMBDA_PACKAGE_DIR, media: bool = False, events_dir: Path = EVENTS_PACKAGE_DIR
) -> str:
    """Hash of our two packages' files plus the dependency stamp (which pins every wheel) and the variant."""
    return _fingerprint({"i2v": package_dir, "i2v_events": events_dir}, media)


def _fingerprint(sources: Mapping[str, Path], media: bool) -> str:
    digest = hashlib.sha256(lambda_deps.expected_stamp().encode() + (b"\0media" if media else b"\0shared"))
    for name, root in sorted(sources.items()):
        for path in _files(root) if root.is_dir() else [root]:
            digest.update(f"{name}/{path.relative_to(root).as_posix()}".encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def build_asset(package_dir: Path = LAMBDA_PACKAGE_DIR, media: bool = False, deps_dir: DepsDir = None) -> Path:
    """Assemble (or reuse) the asset directory and return its path; `media` keeps the video libraries."""
    if not (package_dir / "handlers").is_dir():
        raise BundlingError(f"{package_dir} does not look like the i2v Lambda package (no handlers/)")
    return _assemble({"i2v": package_dir, "i2v_events": EVENTS_PACKAGE_DIR}, media, deps_dir)


def _assemble(sources: Mapping[str, Path], media: bool, deps_dir: DepsDir) -> Path:
    """The dependencies plus each source (name in the asset -> file or directory), content-addressed."""
    deps = check_dependencies(deps_dir)
    target = ASSET_ROOT / _fingerprint(sources, media)
    if target.is_dir():
        os.utime(target)  # recently used: keeps _prune_stale of another version away from it
        return target
    ASSET_ROOT.mkdir(parents=True, exist_ok=True)
    tmp = ASSET_ROOT / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(deps, tmp, ignore=_ignore if media else _ignore_media(deps))
        for name, root in sources.items():
            if root.is_dir():
                shutil.copytree(root, tmp / name, ignore=_ignore)
            else:
                shutil.copy2(root, tmp / name)
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


def lambda_code(media: bool = False, deps_dir: DepsDir = None) -> lambda_.Code:
    """`lambda.Code` for the shared asset, or with `media` the previews function's (CDK de-duplicates by hash)."""
    return lambda_.Code.from_asset(str(build_asset(media=media, deps_dir=deps_dir)))


def subscriber_code(sources: Mapping[str, Path], deps_dir: DepsDir = None) -> lambda_.Code:
    """Code for a subscriber's own function: its files or directories (name in the asset -> path), the typed
    `i2v_events` package and the pipeline's Lambda dependencies (pydantic, Powertools; no video libraries)."""
    return lambda_.Code.from_asset(str(_assemble({"i2v_events": EVENTS_PACKAGE_DIR, **sources}, False, deps_dir)))


def local_only_code() -> lambda_.Code:
    """Our package alone, without the arm64 dependencies: for a template that only the local stack reads (it runs
    the handlers from this virtualenv, never the asset), so `make demo` needs no Lambda wheels. Never deployed."""
    return lambda_.Code.from_asset(str(LAMBDA_PACKAGE_DIR), exclude=["__pycache__", "*.pyc"])
