"""Download the Lambda functions' third-party packages for the Lambda platform (no Docker).

In a checkout, `make install` fills .build/lambda-deps once (the only step that needs PyPI) and synth copies it
into the function asset offline. An installed construct (i2v-pipeline-cdk) downloads them itself at its first synth
into the user's cache, or takes a directory filled beforehand (the construct's `lambda_deps_dir`, or the
environment variable I2V_LAMBDA_DEPS_DIR), e.g. in a build that has no PyPI:

    python -m i2v_pipeline_cdk.lambda_deps [--target DIR] [--python PIP_PYTHON]   (`make install`: i2v_infra's)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from i2v_infra.paths import BUILD_DIR, INSTALLED, LAMBDA_REQUIREMENTS

REQUIREMENTS = LAMBDA_REQUIREMENTS
#: The default directory: .build/lambda-deps in a checkout, the user's cache when installed.
DEFAULT_DEPS_DIR = BUILD_DIR / "lambda-deps"
DEPS_DIR_ENV = "I2V_LAMBDA_DEPS_DIR"
STAMP_NAME = ".stamp"

# Keep in step with the runtime in i2v_infra/constructs/functions.py (a test checks it).
LAMBDA_PYTHON_VERSION = "3.14"
LAMBDA_PLATFORM = "manylinux2014_aarch64"  # arm64 (Graviton) functions
# The python3.14 runtime runs on Amazon Linux 2023 (glibc 2.34): wheels built for glibc 2.28 run there too, and
# PyAV and Pillow publish their cp314/abi3 aarch64 wheels only for manylinux_2_28.
EXTRA_PLATFORMS = ("manylinux_2_28_aarch64",)


class DependenciesError(RuntimeError):
    """The Lambda dependencies are not there and may not (or could not) be downloaded."""


def expected_stamp() -> str:
    """What the stamp must contain for the deps dir to match the requirement list and platform."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    platforms = ",".join((LAMBDA_PLATFORM, *EXTRA_PLATFORMS))
    return f"requirements-sha256={digest}\nplatform={platforms}\npython={LAMBDA_PYTHON_VERSION}\n"


def deps_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """The directory to use: the one given, else $I2V_LAMBDA_DEPS_DIR, else the default."""
    chosen = given or os.environ.get(DEPS_DIR_ENV)
    return Path(chosen).expanduser().absolute() if chosen else DEFAULT_DEPS_DIR


def is_current(directory: Path | None = None) -> bool:
    stamp = (directory or deps_dir()) / STAMP_NAME
    return stamp.is_file() and stamp.read_text() == expected_stamp()


def ensure(given: str | os.PathLike[str] | None = None) -> Path:
    """The dependency directory, ready to copy: a given one must be filled already; an installed construct's
    default is downloaded once (needs PyPI); a checkout's is `make install`'s."""
    directory = deps_dir(given)
    if is_current(directory):
        return directory
    needs = f"Lambda dependencies for python{LAMBDA_PYTHON_VERSION} on {LAMBDA_PLATFORM}"
    if directory != DEFAULT_DEPS_DIR:
        raise DependenciesError(
            f"{directory} does not hold the {needs} (missing or out of date). Fill it with "
            f"`python -m i2v_pipeline_cdk.lambda_deps --target {directory}` (needs PyPI), or leave lambda_deps_dir and "
            f"{DEPS_DIR_ENV} unset to have synth download them into {DEFAULT_DEPS_DIR}."
        )
    if not INSTALLED:
        raise DependenciesError(
            f"{needs} are missing or out of date in {directory}. "
            "Run `make install` (it downloads them once from PyPI), then synth again."
        )
    print(f"i2v-pipeline-cdk: downloading the {needs} into {directory} (once)", file=sys.stderr)
    try:
        build(sys.executable, directory)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise DependenciesError(
            f"could not download the {needs} into {directory} ({exc}); with no PyPI, fill a directory elsewhere "
            f"with `python -m i2v_pipeline_cdk.lambda_deps --target DIR` and pass it as lambda_deps_dir or {DEPS_DIR_ENV}"
        ) from None
    return directory


def build(pip_python: str, target: Path | None = None, *, force: bool = False) -> None:
    target = target or DEFAULT_DEPS_DIR
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    command = [
        pip_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--only-binary=:all:", "--implementation", "cp",
        "--platform", LAMBDA_PLATFORM, *(f"--platform={extra}" for extra in EXTRA_PLATFORMS),
        "--python-version", LAMBDA_PYTHON_VERSION,
        "--target", str(tmp), "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell
        # Console scripts and caches are useless in the function package.
        for junk in ("bin", "__pycache__"):
            shutil.rmtree(tmp / junk, ignore_errors=True)
        (tmp / STAMP_NAME).write_text(expected_stamp())
        if force or not is_current(target):  # else a concurrent synth has finished first
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter whose pip downloads the wheels")
    parser.add_argument("--target", type=Path, default=None, help=f"directory to fill (default {DEFAULT_DEPS_DIR})")
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp is current")
    args = parser.parse_args(argv)
    target = deps_dir(args.target)
    if is_current(target) and not args.force:
        print(f"{target} is up to date")
        return 0
    build(args.python, target, force=True)
    print(f"Lambda dependencies for python{LAMBDA_PYTHON_VERSION}/{LAMBDA_PLATFORM} in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
