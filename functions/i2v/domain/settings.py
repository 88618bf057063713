"""Generation settings: one typed model of the pixverse-v5.5-i2v contract, and how they are resolved."""

from __future__ import annotations

import email.header
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SEED_MAX = 2_147_483_647


class Duration(StrEnum):
    FIVE = "5"
    EIGHT = "8"
    TEN = "10"


class AspectRatio(StrEnum):
    WIDE = "16:9"
    TALL = "9:16"
    SQUARE = "1:1"
    CLASSIC = "4:3"
    CLASSIC_TALL = "3:4"


class Quality(StrEnum):
    Q360 = "360p"
    Q540 = "540p"
    Q720 = "720p"
    Q1080 = "1080p"


class Style(StrEnum):
    NONE = "none"
    ANIME = "anime"
    ANIMATION_3D = "3d_animation"
    CLAY = "clay"
    COMIC = "comic"
    CYBERPUNK = "cyberpunk"


class ThinkingType(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    AUTO = "auto"


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class GenerationSettings(BaseModel):
    """Every request parameter of the seed except image_url, with the seed's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    prompt: str = Field(min_length=1)
    negative_prompt: str = ""
    duration: Duration = Duration.FIVE
    aspect_ratio: AspectRatio = AspectRatio.WIDE
    quality: Quality = Quality.Q540
    style: Style = Style.NONE
    thinking_type: ThinkingType = ThinkingType.AUTO
    generate_audio_switch: bool = False
    generate_multi_clip_switch: bool = False
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX, strict=True)

    @field_validator("prompt", "negative_prompt", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("duration", mode="before")
    @classmethod
    def _duration_as_text(cls, value: Any) -> Any:
        # The seed sends duration as a string enum; accept the integer spelling too.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value.strip().removesuffix("s") if isinstance(value, str) else value

    @field_validator("generate_audio_switch", "generate_multi_clip_switch", mode="before")
    @classmethod
    def _bool_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError("must be true or false")
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not text.isdigit():
                raise ValueError(f"must be an integer from 0 to {SEED_MAX}")
            return int(text)
        return value

    @model_validator(mode="after")
    def _ten_seconds_not_at_1080p(self) -> Self:
        if self.duration == Duration.TEN and self.quality == Quality.Q1080:
            raise ValueError("duration '10' is not available at quality '1080p' (use 5 or 8, or a lower quality)")
        return self

    def to_payload(self, image_url: str) -> dict[str, Any]:
        """The GMI request payload; seed omitted when unset so GMI picks one."""
        payload: dict[str, Any] = {"image_url": image_url, **self.model_dump(exclude_none=True)}
        return payload


SETTING_NAMES = frozenset(GenerationSettings.model_fields)


class InvalidSettingsError(ValueError):
    """Settings that GMI would refuse; the message names each field and what it accepts."""


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(loc) for loc in item["loc"]) or "settings"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown setting (known: {', '.join(sorted(SETTING_NAMES))})"
        elif item["type"] == "missing":
            message = "is required"
        shown = item.get("input")
        got = f" (got {shown!r})" if isinstance(shown, str | int | float) and item["type"] != "missing" else ""
        parts.append(f"{field}: {message}{got}")
    return "; ".join(parts)


def decode_metadata_value(value: str) -> str:
    """S3 returns non-ASCII user metadata RFC 2047-encoded (=?UTF-8?B?...?=); decode it once."""
    if "=?" not in value:
        return value
    decoded = email.header.decode_header(value)
    return "".join(part.decode(charset or "utf-8") if isinstance(part, bytes) else part for part, charset in decoded)


def settings_from_metadata(metadata: Mapping[str, str]) -> dict[str, Any]:
    """Pick the generation settings out of S3 user metadata (keys may use '-' for '_'); ignore the rest."""
    picked: dict[str, Any] = {}
    for raw_name, raw_value in metadata.items():
        name = raw_name.lower().removeprefix("x-amz-meta-").replace("-", "_")
        if name in SETTING_NAMES:
            picked[name] = decode_metadata_value(raw_value)
    return picked


def preset_for_key(relative_key: str, presets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The preset of the longest sub-prefix that the key (relative to the input prefix) starts with."""
    matches = [prefix for prefix in presets if relative_key.startswith(prefix)]
    return dict(presets[max(matches, key=len)]) if matches else {}


def resolve_settings(
    metadata: Mapping[str, str],
    relative_key: str,
    presets: Mapping[str, Mapping[str, Any]],
    defaults: Mapping[str, Any],
) -> GenerationSettings:
    """Object metadata beats the key-prefix preset, which beats deployment defaults."""
    merged = {**defaults, **preset_for_key(relative_key, presets), **settings_from_metadata(metadata)}
    try:
        return GenerationSettings.model_validate(merged)
    except ValidationError as error:
        raise InvalidSettingsError(describe_validation_error(error)) from None
