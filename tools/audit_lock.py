"""Audit a lock file (name==version lines) for known vulnerabilities; fail loudly if anything went unchecked.

This is `make audit`, deliberately not part of `make test`: its answer depends on today's vulnerability data
and on which releases exist today, not on the commit.

    python tools/audit_lock.py requirements/lock.txt

1. pip-audit (PyPI vulnerability service) over the lock, without resolving anything (--no-deps --disable-pip).
   pip-audit *passes* when the service cannot answer for a package ("Dependency not found on PyPI and could
   not be audited"), so its JSON report is read here and every skipped package is handled explicitly.
2. A package pip-audit skipped is checked against PyPI's project JSON (/pypi/<name>/json), whose
   ``vulnerabilities`` list describes the project's latest release: authoritative for our pin only when the
   pin *is* the latest release. (Some registries, such as the mirror of this workplace, serve the project
   endpoint but not pip-audit's per-version one.) A pin that is not the latest cannot be checked this way.
3. Exit 1, with a message saying what to do, if a vulnerability was found, the service was unreachable,
   or any package could not be audited. Never a silent pass.

Known vulnerabilities we accept are listed in IGNORED (id -> why), and only there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYPI_PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
TIMEOUT_SECONDS = 30
STRICT = os.environ.get("AUDIT_STRICT") == "1"

#: Vulnerability id (PYSEC-/GHSA-/CVE-) -> why we accept it for now. Add a fixed version to the lock instead
#: whenever one exists (`make lock` after raising the pin in pyproject.toml).
IGNORED: dict[str, str] = {}

#: name==version -> why this pin is not the project's latest release. Only for a registry that answers the
#: project JSON but not the per-version one (step 2 above): such a pin cannot be audited there, and this list
#: is the only way it passes (loudly, with a NOT AUDITED warning). AUDIT_STRICT=1 fails on these as well.
#: Where pip-audit's per-version query works, these packages are audited like any other.
UNAUDITABLE_PINS: dict[str, str] = {
    "av==18.1.0": "pinned in pyproject (local simulator's MP4 rendering, never deployed); av 19 needs Python >= 3.12",
    "networkx==3.6.1": "cfn-lint dependency (synth-time lint only); networkx 3.7 needs Python >= 3.12",
    "python-dateutil==2.9.0.post0": "botocore requires python-dateutil < 3.0.0; 2.9.0.post0 is the newest 2.x",
    "typeguard==2.13.3": "jsii (the CDK runtime, synth time only) pins typeguard==2.13.3",
    "mpmath==1.3.0": "sympy 1.14.0 (via cfn-lint) requires mpmath < 1.4",
    "boto3-stubs==1.43.126": "type stubs pinned in pyproject; no runtime code (mypy only)",
    "aws-cdk-asset-awscli-v1==2.2.292": "the version aws-cdk-lib 2.275.0 depends on (synth time only, not used by our stack)",
}


@dataclass
class Report:
    vulnerable: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    unaudited: list[str] = field(default_factory=list)
    accepted_unaudited: list[str] = field(default_factory=list)
    audited_by_pip_audit: int = 0
    audited_by_project_json: int = 0

    @property
    def ok(self) -> bool:
        return not (self.vulnerable or self.unreachable or self.unaudited)


def run_pip_audit(lock: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(lock),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(out),
        ]
        for vuln_id in IGNORED:
            command += ["--ignore-vuln", vuln_id]
        # Bandit B603: a fixed argv of our own interpreter, no shell; the only input is our lock file's path.
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
        if result.returncode not in (0, 1) or not out.is_file():
            fail(
                "pip-audit could not run: the vulnerability service is probably unreachable.\n"
                f"exit code {result.returncode}: {(result.stderr.strip().splitlines() or [''])[-1]}\n"
                "Nothing was audited; this check does not pass without an answer. Retry when PyPI is reachable."
            )
        report: dict[str, Any] = json.loads(out.read_text())
        return report


def project_json(name: str) -> dict[str, Any]:
    url = PYPI_PROJECT_JSON.format(name=name)
    # Bandit B310: a constant https:// URL (no file:// or custom scheme can reach urlopen).
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
        data: dict[str, Any] = json.load(response)
        return data


def check_with_project_json(name: str, version: str) -> tuple[str, str]:
    """('ok'|'vulnerable'|'unreachable'|'unaudited', detail) for one pinned package."""
    try:
        data = project_json(name)
    except urllib.error.HTTPError as error:
        return "unaudited", f"{name}=={version}: PyPI answered {error.code} for the project"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return "unreachable", f"{name}=={version}: {error}"
    latest = str(data.get("info", {}).get("version", ""))
    if latest != version:
        return "unaudited", f"{name}=={version}: no per-version answer and the latest release is {latest}"
    found = [
        vuln
        for vuln in data.get("vulnerabilities") or []
        if not vuln.get("withdrawn") and not ({vuln.get("id"), *(vuln.get("aliases") or [])} & IGNORED.keys())
    ]
    if found:
        ids = ", ".join(f"{v.get('id')} (fixed in {', '.join(v.get('fixed_in') or []) or 'no release'})" for v in found)
        return "vulnerable", f"{name}=={version}: {ids}"
    return "ok", ""


def audit(lock: Path) -> Report:
    report = Report()
    skipped: list[tuple[str, str]] = []
    for dep in run_pip_audit(lock).get("dependencies", []):
        if dep.get("skip_reason"):
            version = str(dep.get("version") or _pinned(lock).get(canonical(dep["name"]), ""))
            skipped.append((dep["name"], version))
            continue
        report.audited_by_pip_audit += 1
        if dep.get("vulns"):
            ids = ", ".join(
                f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or []) or 'no release'})" for v in dep["vulns"]
            )
            report.vulnerable.append(f"{dep['name']}=={dep['version']}: {ids}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        for outcome, detail in pool.map(lambda nv: check_with_project_json(*nv), skipped):
            if outcome == "ok":
                report.audited_by_project_json += 1
            elif outcome == "unaudited" and detail.split(":", 1)[0] in UNAUDITABLE_PINS and not STRICT:
                pin = detail.split(":", 1)[0]
                report.accepted_unaudited.append(f"{pin}: {UNAUDITABLE_PINS[pin]}")
            else:
                getattr(report, outcome).append(detail)
    return report


def _pinned(lock: Path) -> dict[str, str]:
    pins = {}
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    return pins


def canonical(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    raise SystemExit(1)


def main(argv: list[str]) -> None:
    lock = Path(argv[1] if len(argv) > 1 else "requirements/lock.txt")
    report = audit(lock)
    total = report.audited_by_pip_audit + report.audited_by_project_json
    print(
        f"{lock}: {total} packages audited ({report.audited_by_pip_audit} by pip-audit's per-version query, "
        f"{report.audited_by_project_json} by PyPI's project JSON); ignored ids: {sorted(IGNORED) or 'none'}"
    )
    if report.accepted_unaudited:
        print(
            "WARNING: NOT AUDITED (the registry could not answer for these pins; accepted in UNAUDITABLE_PINS):\n  "
            + "\n  ".join(report.accepted_unaudited)
        )
    problems = []
    if report.vulnerable:
        problems.append(
            "known vulnerabilities (raise the pin to a fixed version and run `make lock`, or justify the id in "
            "IGNORED in tools/audit_lock.py):\n  " + "\n  ".join(report.vulnerable)
        )
    if report.unreachable:
        problems.append("the vulnerability service was unreachable for:\n  " + "\n  ".join(report.unreachable))
    if report.unaudited:
        problems.append(
            "these packages could not be audited (run `make lock` to take their newest releases, then `make test`;"
            " or, if a pin must stay behind, add it to UNAUDITABLE_PINS in tools/audit_lock.py with the reason):\n  "
            + "\n  ".join(report.unaudited)
        )
    if problems:
        fail("\n".join(problems))
    print("No known vulnerabilities.")


if __name__ == "__main__":
    main(sys.argv)
