"""Generation settings of one job: which catalog model, which of its settings, which end frame.

Precedence: the object's metadata, then its settings sidecar (i2v.domain.sidecar), then the key-prefix preset,
then the deployment defaults. Defaults and presets are settings *of a model* (the deployment's `model_id`, or the
preset's own `model`): a job that ends up on another model gets that model's own defaults plus the default prompt.
The object's metadata and its sidecar are what the uploader asked for: every setting in them must be accepted by
the chosen model, or the job is rejected (a sidecar is stricter: a name no model has is rejected too, since
nothing else writes there).
"""

from __future__ import annotations

import email.header
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from i2v.domain import catalog
from i2v.domain.catalog.base import CatalogModel, as_text, describe_validation_error

# Metadata keys that steer the job rather than being GMI payload fields.
MODEL_KEY = "model"
END_FRAME_KEY = "end_frame"
# Metadata only: names the image's settings sidecar (i2v.domain.sidecar).
SIDECAR_KEY = "settings"
CONTROL_KEYS = (MODEL_KEY, END_FRAME_KEY, SIDECAR_KEY)
# Carried from the deployment defaults to whichever model a job uses.
SHARED_DEFAULTS = ("prompt",)


class InvalidSettingsError(ValueError):
    """Settings the chosen model would refuse; the message names the model, each field and what it accepts."""


@dataclass(frozen=True)
class JobSettings:
    model_id: str
    settings: CatalogModel
    end_frame_key: str | None = None

    def as_record(self) -> dict[str, Any]:
        """What the job record keeps (and the payload carries besides the image fields)."""
        return self.settings.model_dump(exclude_none=True)

    def time_class(self) -> dict[str, str]:
        return self.settings.time_class()


def decode_metadata_value(value: str) -> str:
    """S3 returns non-ASCII user metadata RFC 2047-encoded (=?UTF-8?B?...?=); decode it once."""
    if "=?" not in value:
        return value
    decoded = email.header.decode_header(value)
    return "".join(part.decode(charset or "utf-8") if isinstance(part, bytes) else part for part, charset in decoded)


def normalized_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """Lower-case keys without the x-amz-meta- prefix ('-' kept: models are matched case/dash-insensitively)."""
    return {name.lower().removeprefix("x-amz-meta-"): decode_metadata_value(value) for name, value in metadata.items()}


def preset_for_key(relative_key: str, presets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The preset of the longest sub-prefix that the key (relative to the input prefix) starts with."""
    matches = [prefix for prefix in presets if relative_key.startswith(prefix)]
    return dict(presets[max(matches, key=len)]) if matches else {}


def model_for(model_id: str) -> type[CatalogModel]:
    try:
        return catalog.get(model_id)
    except catalog.UnknownModelError as error:
        raise InvalidSettingsError(f"model: {error}") from None


def _control(meta: Mapping[str, str], name: str) -> str | None:
    for key, value in meta.items():
        if key.replace("-", "_") == name:
            return value.strip() or None
    return None


def _layer(model_id: str, layer_model: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings written for `layer_model`: all of them on that model, only the shared ones on another. Names are
    matched as metadata's are (case, '-' and '_' do not matter: `aspect_ratio` is veo's `aspectRatio`); a name the
    model does not have is kept as written, so validation names it."""
    settings = {name: value for name, value in values.items() if name != MODEL_KEY}
    if model_id != layer_model:
        return {name: value for name, value in settings.items() if name in SHARED_DEFAULTS}
    model = model_for(model_id)
    return {model.field_for(name) or name: value for name, value in settings.items()}


def _metadata_settings(model: type[CatalogModel], meta: Mapping[str, str]) -> dict[str, Any]:
    picked: dict[str, Any] = {}
    foreign: list[str] = []
    for key, value in meta.items():
        if key.replace("-", "_") in CONTROL_KEYS:
            continue
        field = model.field_for(key)
        if field is not None:
            picked[field] = model.from_text(field, value)
        elif _is_setting_of_any_model(key):
            foreign.append(key)
    if foreign:
        raise InvalidSettingsError(
            f"model {model.MODEL_ID!r} has no setting {', '.join(map(repr, sorted(foreign)))}; "
            f"its settings: {', '.join(model.model_fields)}"
        )
    return picked


def _sidecar_settings(model: type[CatalogModel], sidecar: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Every name must be a setting of the chosen model; values are read as metadata's are ("5" or 5 alike)."""
    picked: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in sidecar.items():
        if name.replace("-", "_").lower() in (MODEL_KEY, END_FRAME_KEY):
            continue
        field = model.field_for(name)
        if field is None:
            unknown.append(name)
            continue
        picked[field] = model.from_text(field, value if isinstance(value, str) else as_text(value))
    if unknown:
        raise InvalidSettingsError(
            f"{where}: model {model.MODEL_ID!r} has no setting {', '.join(map(repr, sorted(unknown)))}; "
            f"its settings: {', '.join(model.model_fields)}"
        )
    return picked


def _sidecar_control(sidecar: Mapping[str, Any], name: str) -> str | None:
    value = next((v for k, v in sidecar.items() if k.replace("-", "_").lower() == name), None)
    return (str(value).strip() or None) if value is not None else None


def _is_setting_of_any_model(key: str) -> bool:
    # Imports every model module: reached only for a metadata key the chosen model does not have.
    return any(catalog.get(model_id).field_for(key) is not None for model_id in catalog.ids())


def validate(model: type[CatalogModel], values: Mapping[str, Any]) -> CatalogModel:
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise InvalidSettingsError(describe_validation_error(model, error)) from None


def resolve_settings(
    metadata: Mapping[str, str],
    relative_key: str,
    presets: Mapping[str, Mapping[str, Any]],
    defaults: Mapping[str, Any],
    default_model: str,
    sidecar: Mapping[str, Any] | None = None,
    sidecar_key: str = "settings sidecar",
) -> JobSettings:
    """Choose the model, layer its settings, validate them: InvalidSettingsError before any money is spent.
    `sidecar`: the parsed settings sidecar (i2v.domain.sidecar.parse_sidecar) or a manifest line's settings, named
    `sidecar_key` in errors (e.g. "settings sidecar 'incoming/cat.json'")."""
    meta = normalized_metadata(metadata)
    side = dict(sidecar or {})
    preset = preset_for_key(relative_key, presets)
    preset_model = str(preset.get(MODEL_KEY) or default_model)
    model_id = _control(meta, MODEL_KEY) or _sidecar_control(side, MODEL_KEY) or preset_model
    model = model_for(model_id)
    end_frame = _control(meta, END_FRAME_KEY) or _sidecar_control(side, END_FRAME_KEY)
    if end_frame is not None and model.END_FRAME_FIELD is None:
        takers = [mid for mid in catalog.ids() if catalog.get(mid).END_FRAME_FIELD]
        raise InvalidSettingsError(
            f"model {model_id!r} takes no end frame (metadata {END_FRAME_KEY!r}); models that do: {', '.join(takers)}"
        )
    merged = {
        **_layer(model_id, default_model, defaults),
        **_layer(model_id, preset_model, preset),
        **_sidecar_settings(model, side, sidecar_key),
        **_metadata_settings(model, meta),
    }
    return JobSettings(model_id, validate(model, merged), end_frame)


def check_configured_settings(
    default_model: str, defaults: Mapping[str, Any], presets: Mapping[str, Mapping[str, Any]]
) -> None:
    """Deployment defaults and every preset must be valid for their model (a placeholder stands in for an empty
    prompt, which usually comes from metadata). Raises InvalidSettingsError naming the preset."""
    placeholder = {"prompt": defaults.get("prompt") or "placeholder prompt for validation"}
    validate(model_for(default_model), {**defaults, **placeholder})
    for prefix, preset in presets.items():
        preset_model = str(preset.get(MODEL_KEY) or default_model)
        try:
            model = model_for(preset_model)
            validate(
                model,
                {
                    **_layer(preset_model, default_model, defaults),
                    **placeholder,
                    **_layer(preset_model, preset_model, preset),
                },
            )
        except InvalidSettingsError as error:
            raise InvalidSettingsError(f"prefix_presets[{prefix!r}]: {error}") from None
