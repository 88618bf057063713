"""Download the Lambda functions' third-party packages for the Lambda platform (no Docker).

Run by `make install` (target `.build/lambda-deps/.stamp`) - the only step that needs PyPI. Synth later
copies the result into the function asset offline. Standard library only: it runs before the venv
knows this package.

    python infrastructure/i2v_infra/lambda_deps.py [--python PIP_PYTHON]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "infrastructure" / "lambda-requirements.txt"
DEPS_DIR = REPO_ROOT / ".build" / "lambda-deps"
STAMP = DEPS_DIR / ".stamp"

# Keep in step with the runtime in i2v_infra/constructs/functions.py (a test checks it).
LAMBDA_PYTHON_VERSION = "3.14"
LAMBDA_PLATFORM = "manylinux2014_aarch64"  # arm64 (Graviton) functions
# The python3.14 runtime runs on Amazon Linux 2023 (glibc 2.34): wheels built for glibc 2.28 run there too, and
# PyAV and Pillow publish their cp314/abi3 aarch64 wheels only for manylinux_2_28.
EXTRA_PLATFORMS = ("manylinux_2_28_aarch64",)


def expected_stamp() -> str:
    """What the stamp must contain for the deps dir to match the requirement list and platform."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    platforms = ",".join((LAMBDA_PLATFORM, *EXTRA_PLATFORMS))
    return f"requirements-sha256={digest}\nplatform={platforms}\npython={LAMBDA_PYTHON_VERSION}\n"


def is_current() -> bool:
    return STAMP.is_file() and STAMP.read_text() == expected_stamp()


def build(pip_python: str) -> None:
    tmp = DEPS_DIR.with_name(DEPS_DIR.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    command = [
        pip_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--only-binary=:all:", "--implementation", "cp",
        "--platform", LAMBDA_PLATFORM, *(f"--platform={extra}" for extra in EXTRA_PLATFORMS),
        "--python-version", LAMBDA_PYTHON_VERSION,
        "--target", str(tmp), "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell
    # Console scripts and caches are useless in the function package.
    for junk in ("bin", "__pycache__"):
        shutil.rmtree(tmp / junk, ignore_errors=True)
    (tmp / STAMP.name).write_text(expected_stamp())
    shutil.rmtree(DEPS_DIR, ignore_errors=True)
    tmp.rename(DEPS_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter whose pip downloads the wheels")
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp is current")
    args = parser.parse_args(argv)
    if is_current() and not args.force:
        print(f"{DEPS_DIR.relative_to(REPO_ROOT)} is up to date")
        return 0
    build(args.python)
    print(f"Lambda dependencies for python{LAMBDA_PYTHON_VERSION}/{LAMBDA_PLATFORM} in {DEPS_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
