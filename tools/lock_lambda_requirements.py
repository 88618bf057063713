"""Rewrite infrastructure/lambda-requirements.txt from the environment `make lock` just resolved.

    .build/lock-venv/bin/python tools/lock_lambda_requirements.py infrastructure/lambda-requirements.txt

The Lambda asset is installed with --no-deps, so the file must be the complete closure of pyproject's runtime
dependencies (minus what the Lambda runtime provides), at the versions of the dev lock: the tests run with
those versions (tests/infrastructure/test_infra_bundling.py checks both). Run inside the lock venv, whose
installed metadata is the resolution; markers are evaluated for the Lambda platform, not this machine.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# Provided by the Lambda runtime, so neither bundled nor followed (their own dependencies are only theirs).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
LAMBDA_MARKERS = {
    "python_version": "3.14",
    "python_full_version": "3.14.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in extras or {""})


def closure(roots: list[str]) -> dict[str, str]:
    """canonical name -> installed version, for the roots and everything they need on Lambda."""
    found: dict[str, str] = {}
    pending = [(Requirement(root), set(Requirement(root).extras)) for root in roots]
    while pending:
        requirement, extras = pending.pop(0)
        name = canonical(requirement.name)
        if name in RUNTIME_PROVIDED or name in found:
            continue
        found[name] = metadata.version(name)
        for raw in metadata.requires(name) or []:
            dependency = Requirement(raw)
            if applies(dependency, extras):
                pending.append((dependency, set(dependency.extras)))
    return found


def main(argv: list[str]) -> None:
    target = Path(argv[1])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = closure(project["dependencies"])
    header = [line for line in target.read_text().splitlines() if line.startswith("#")]
    # Keep the file's order and spelling; new packages go at the end, spelled as their metadata spells them.
    spelled = {canonical(dist.metadata["Name"]): dist.metadata["Name"] for dist in metadata.distributions()}
    for line in target.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            spelled[canonical(line.split("==")[0])] = line.split("==")[0].strip()
    previous = [canonical(line.split("==")[0]) for line in target.read_text().splitlines() if "==" in line]
    order = [name for name in previous if name in pins] + sorted(set(pins) - set(previous))
    target.write_text("\n".join([*header, *(f"{spelled.get(name, name)}=={pins[name]}" for name in order)]) + "\n")
    print(f"{target}: {len(pins)} packages pinned for the Lambda runtime")


if __name__ == "__main__":
    main(sys.argv)
