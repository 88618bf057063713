"""Where synth finds what it builds from: in a checkout of the repository, or installed from the
`i2v-pipeline-cdk` wheel, which packs the Lambda requirement list beside this file (packages/i2v-pipeline-cdk).

Standard library only.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_PACKAGED_REQUIREMENTS = _HERE / "lambda-requirements.txt"
#: True when installed from the wheel; False in a checkout (infrastructure/i2v_infra).
INSTALLED = _PACKAGED_REQUIREMENTS.is_file()

# The checkout's layout (meaningless when installed: nothing reads them then but the repository's own tools).
REPO_ROOT = _HERE.parents[1]
INFRA_DIR = REPO_ROOT / "infrastructure"

LAMBDA_REQUIREMENTS = _PACKAGED_REQUIREMENTS if INSTALLED else INFRA_DIR / "lambda-requirements.txt"
#: The repository's cdk.json (its feature flags and `i2v` defaults); the wheel packs a copy beside this file.
CDK_JSON = _HERE / "cdk.json" if INSTALLED else REPO_ROOT / "cdk.json"


def user_cache_dir() -> Path:
    """Where an installed construct keeps its downloaded Lambda dependencies and assembled assets."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    return Path(base or Path.home() / ".cache") / "i2v-pipeline-cdk"


#: The checkout's .build/ (filled by `make install`), or the user's cache directory when installed.
BUILD_DIR = user_cache_dir() if INSTALLED else REPO_ROOT / ".build"


def package_dir(name: str) -> Path:
    """The directory of an importable package, found without importing it: the Lambda asset copies it whole,
    from the checkout or from site-packages alike."""
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModuleNotFoundError(f"package {name!r} is not importable; the Lambda asset needs it")
    return Path(locations[0])


#: functions/i2v in a checkout; site-packages/i2v when installed.
LAMBDA_PACKAGE_DIR = package_dir("i2v")
#: The event models the functions build every detail with; the Lambda asset ships it beside `i2v`
#: (packages/i2v-events/src/i2v_events in a checkout).
EVENTS_PACKAGE_DIR = package_dir("i2v_events")
