"""Repository paths used at synth time."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infrastructure"
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAMBDA_PACKAGE_DIR = FUNCTIONS_DIR / "i2v"
# The event models the functions build every detail with; the Lambda asset ships it beside `i2v`.
EVENTS_PACKAGE_DIR = REPO_ROOT / "packages" / "i2v-events" / "src" / "i2v_events"
BUILD_DIR = REPO_ROOT / ".build"
CDK_JSON = REPO_ROOT / "cdk.json"


def ensure_import_paths() -> None:
    """Make `i2v` (the Lambda package) importable when the app runs as a plain script."""
    for path in (INFRA_DIR, FUNCTIONS_DIR):
        if str(path) not in sys.path:
            sys.path.append(str(path))
