"""The request contract of the GMI request-queue API (pixverse-v5.5-i2v), enforced like the real service.

Everything here comes from the seed document: paths, parameters, enums, defaults and the
"10 s is unavailable at 1080p" rule. Validation collects every problem so a 400 names all fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

API_PREFIX: Final = "/api/v1/ie/requestqueue/apikey/requests"
DEFAULT_MODEL: Final = "pixverse-v5.5-i2v"
SEED_MAX: Final = 2147483647

DURATIONS: Final = ("5", "8", "10")
ASPECT_RATIOS: Final = ("16:9", "9:16", "1:1", "4:3", "3:4")
QUALITIES: Final = ("360p", "540p", "720p", "1080p")
STYLES: Final = ("none", "anime", "3d_animation", "clay", "comic", "cyberpunk")
THINKING_TYPES: Final = ("enabled", "disabled", "auto")

# Defaults of the seed's table (seed has no default: it is left out when not sent).
DEFAULTS: Final[Mapping[str, Any]] = {
    "negative_prompt": "",
    "duration": "5",
    "aspect_ratio": "16:9",
    "quality": "540p",
    "style": "none",
    "thinking_type": "auto",
    "generate_audio_switch": False,
    "generate_multi_clip_switch": False,
}
# The seed marks these "Required: Yes" yet gives defaults; strict mode enforces the former.
SEED_REQUIRED_WITH_DEFAULT: Final = ("duration", "aspect_ratio", "quality")

PAYLOAD_FIELDS: Final = frozenset(
    {"image_url", "prompt", "seed", *DEFAULTS.keys()},
)
TOP_LEVEL_FIELDS: Final = frozenset({"model", "payload"})

_ENUMS: Final[Mapping[str, tuple[str, ...]]] = {
    "aspect_ratio": ASPECT_RATIOS,
    "quality": QUALITIES,
    "style": STYLES,
    "thinking_type": THINKING_TYPES,
}


class ContractError(ValueError):
    """A 400: `errors` holds one message per offending field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _check_duration(value: Any, errors: list[str]) -> str | None:
    # The seed sends "5" (a string enum); the integer spelling 5/8/10 is accepted too. bool is an
    # int subclass in Python, so it is excluded explicitly.
    if isinstance(value, bool):
        text = None
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        text = None
    if text not in DURATIONS:
        errors.append(f"payload.duration: must be one of {_allowed(DURATIONS)} (got {value!r})")
        return None
    return text


def _check_url(value: Any, errors: list[str]) -> None:
    if not isinstance(value, str) or not value.strip():
        errors.append("payload.image_url: required, must be a non-empty string URL")
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.append("payload.image_url: must be an absolute http or https URL")


def _resolve_payload(payload: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """Check each field, apply the seed's defaults; problems are appended to `errors`."""
    resolved: dict[str, Any] = {}
    _check_url(payload.get("image_url"), errors)
    resolved["image_url"] = payload.get("image_url")

    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        errors.append("payload.prompt: required, must be a non-empty string")
    resolved["prompt"] = prompt

    negative = payload.get("negative_prompt", DEFAULTS["negative_prompt"])
    if not isinstance(negative, str):
        errors.append("payload.negative_prompt: must be a string")
    resolved["negative_prompt"] = negative

    resolved["duration"] = _check_duration(payload.get("duration", DEFAULTS["duration"]), errors)

    for name, allowed in _ENUMS.items():
        value = payload.get(name, DEFAULTS[name])
        if not isinstance(value, str) or value not in allowed:
            errors.append(f"payload.{name}: must be one of {_allowed(allowed)} (got {value!r})")
        resolved[name] = value

    for name in ("generate_audio_switch", "generate_multi_clip_switch"):
        value = payload.get(name, DEFAULTS[name])
        if not isinstance(value, bool):
            errors.append(f"payload.{name}: must be a boolean (true or false)")
        resolved[name] = value

    if "seed" in payload:
        seed = payload["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            errors.append(f"payload.seed: must be an integer from 0 to {SEED_MAX} (got {seed!r})")
        resolved["seed"] = seed

    return resolved


def validate_request(
    body: Any,
    *,
    models: Iterable[str] = (DEFAULT_MODEL,),
    strict_required: bool = False,
) -> tuple[str, dict[str, Any]]:
    """Return (model, resolved payload with defaults) or raise ContractError."""
    if not isinstance(body, dict):
        raise ContractError(["body: must be a JSON object with 'model' and 'payload'"])
    errors: list[str] = []
    known_models = tuple(models)
    unknown_top = sorted(set(body) - TOP_LEVEL_FIELDS)
    if unknown_top:
        errors.append(f"unknown field(s): {', '.join(unknown_top)}; allowed: model, payload")

    model = body.get("model")
    if not isinstance(model, str) or not model:
        errors.append(f"model: required, one of {_allowed(known_models)}")
    elif model not in known_models:
        errors.append(f"model: unknown model {model!r}; known: {_allowed(known_models)}")

    payload = body.get("payload")
    if not isinstance(payload, dict):
        errors.append("payload: required, must be a JSON object")
        raise ContractError(errors)

    unknown = sorted(set(payload) - PAYLOAD_FIELDS)
    if unknown:
        errors.append(f"payload: unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(PAYLOAD_FIELDS))}")
    if strict_required:
        errors.extend(f"payload.{name}: required" for name in SEED_REQUIRED_WITH_DEFAULT if name not in payload)

    resolved = _resolve_payload(payload, errors)
    if resolved["duration"] == "10" and resolved["quality"] == "1080p":
        errors.append('payload.duration: "10" is unavailable at quality "1080p" (use 5 or 8, or a lower quality)')

    if errors:
        raise ContractError(errors)
    return str(model), resolved
