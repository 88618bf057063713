"""Settings sidecars: `incoming/cat.json` beside `incoming/cat.jpg` carries the job's settings as one JSON object.

S3 caps all user metadata of an object at 2 KB; a sidecar has no limit but the model's own (a 5,000-character
prompt fits). Pure: where an image's sidecar is and what its bytes say; the submit service reads it through the
image storage port and resolves it with the other layers (i2v.domain.settings: metadata > sidecar > preset >
defaults).
"""

from __future__ import annotations

import json
from typing import Any

from i2v.domain.settings import InvalidSettingsError
from i2v.domain.source import SIDECAR_SUFFIX

# Larger than the longest valid settings of any catalog model even written entirely as JSON \u escapes (5,000 +
# 2,500 characters of prompts at 12 bytes each as escaped surrogate pairs: about 90 KB), yet one small GET whose
# settings, once resolved, stay far below DynamoDB's 400 KB item (the record keeps them).
MAX_SIDECAR_BYTES = 128 * 1024


def default_sidecar_key(image_key: str) -> str:
    """`incoming/cat.jpg` -> `incoming/cat.json` (the extension replaced; a key without one gets `.json`)."""
    folder, slash, name = image_key.rpartition("/")
    stem, dot, _extension = name.rpartition(".")
    return f"{folder}{slash}{stem if dot and stem else name}{SIDECAR_SUFFIX}"


def named_sidecar_key(image_key: str, name: str, input_prefix: str) -> str:
    """The sidecar an image's `settings` metadata names: a full key under the input prefix, or a name beside
    the image (`cat-settings.json`, `shared/slow.json` relative to the image's folder)."""
    name = name.strip()
    folder = image_key.rpartition("/")[0]
    key = name if name.startswith(input_prefix) else f"{folder}/{name}" if folder else name
    if (
        {"..", "."} & set(key.split("/"))
        or "//" in key
        or not key.startswith(input_prefix)
        or not key.endswith(SIDECAR_SUFFIX)
    ):
        raise InvalidSettingsError(
            f"metadata 'settings' {name!r} must name a {SIDECAR_SUFFIX} object under {input_prefix!r} "
            "(a full key, or a name beside the image)"
        )
    return key


def check_sidecar_size(key: str, size: int) -> None:
    if size <= 0:
        raise InvalidSettingsError(f"settings sidecar {key!r} is empty: it must be one JSON object of settings")
    if size > MAX_SIDECAR_BYTES:
        raise InvalidSettingsError(
            f"settings sidecar {key!r} is {size} bytes; the limit is {MAX_SIDECAR_BYTES} "
            "(far more than any model's settings need)"
        )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidSettingsError(f"names {', '.join(map(repr, twice))} more than once")
    return dict(pairs)


def parse_sidecar(key: str, body: bytes) -> dict[str, Any]:
    """One JSON object whose values are text, numbers or true/false; InvalidSettingsError naming what is wrong."""
    check_sidecar_size(key, len(body))
    try:
        parsed = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise InvalidSettingsError(f"settings sidecar {key!r} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InvalidSettingsError(
            f"settings sidecar {key!r} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except InvalidSettingsError as error:
        raise InvalidSettingsError(f"settings sidecar {key!r} {error}") from None
    if not isinstance(parsed, dict):
        raise InvalidSettingsError(f"settings sidecar {key!r} must be one JSON object of settings, not {_kind(parsed)}")
    for name, value in parsed.items():
        if value is None or isinstance(value, (dict, list)):
            raise InvalidSettingsError(
                f"settings sidecar {key!r}: {name!r} is {_kind(value)}; a setting is text, a number or true/false"
            )
    return parsed


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "true/false"}.get(type(value), "a number")
