"""Synth-time checks of generation settings and the poll policy, using the Lambdas' own domain models.

The same models validate DEFAULT_SETTINGS, PREFIX_PRESETS and POLL_POLICY at Lambda init; checking here
turns a bad cdk.json into a synth error instead of a broken deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from i2v.domain.polling import PollPolicy
from i2v.domain.settings import check_configured_settings


def check_settings(
    model_id: str, defaults: Mapping[str, Any], presets: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Raise ValueError unless the defaults (for `model_id`) and each preset (for its own model) are valid."""
    check_configured_settings(model_id, defaults, presets or {})  # InvalidSettingsError is a ValueError


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
