"""Synth-time checks of generation settings and the poll policy, using the Lambdas' own domain models.

The same models validate DEFAULT_SETTINGS, PREFIX_PRESETS and POLL_POLICY at Lambda init; checking here
turns a bad cdk.json into a synth error instead of a broken deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from i2v_infra.paths import ensure_import_paths

ensure_import_paths()

from pydantic import ValidationError  # noqa: E402

from i2v.domain.polling import PollPolicy  # noqa: E402
from i2v.domain.settings import GenerationSettings, describe_validation_error  # noqa: E402

# The prompt usually comes from object metadata, so the deployment default may leave it empty.
_PLACEHOLDER_PROMPT = "placeholder prompt for validation"


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``settings`` (defaults, or defaults + preset) are valid generation settings."""
    merged = {**settings, "prompt": settings.get("prompt") or _PLACEHOLDER_PROMPT}
    try:
        GenerationSettings.model_validate(merged)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None


def check_poll_policy(policy: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``policy`` is a valid POLL_POLICY object."""
    try:
        PollPolicy.model_validate(dict(policy))
    except ValidationError as exc:
        parts = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            where = ".".join(map(str, error["loc"]))
            parts.append(f"{where}: {message}" if where else message)
        raise ValueError("; ".join(parts)) from None
