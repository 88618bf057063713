"""The GMI image-to-video model catalog: one module per model, loaded only when a job uses it.

Adding a model: write `<module>.py` defining `MODEL` (a CatalogModel subclass), add one line to `_MODULES`,
one test in tests/unit/catalog/, then regenerate the README's settings per model (`python -m
i2v_local.catalog_docs`). Importing this package imports no model module (cold start).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError

from i2v.domain.catalog.base import CatalogModel, ImageShape, as_text, describe_accepted, validation_messages

# The model a deployment uses unless configured otherwise (cdk.json `model_id`, GMI_MODEL_ID).
DEFAULT_MODEL_ID = "pixverse-v5.5-i2v"

# model id (as GMI spells it) -> module in this package. Veo3 / Veo3-Fast are left out on purpose: their pages
# claim image-to-video but document no image field (gmi-docs README, contradiction 5).
_MODULES: dict[str, str] = {
    "pixverse-v5.5-i2v": "pixverse_v5_5_i2v",
    "pixverse-v6-i2v": "pixverse_v6_i2v",
    "kling-v2-6": "kling_v2_6",
    "kling-v2-5-turbo": "kling_v2_5_turbo",
    "Kling-Image2Video-V2-Master": "kling_image2video_v2_master",
    "kling-v3-image-to-video": "kling_v3_image_to_video",
    "kling-3.0-turbo-i2v": "kling_3_0_turbo_i2v",
    "wan2.6-i2v": "wan2_6_i2v",
    "veo-3.1-fast-generate-001": "veo_3_1_fast_generate_001",
    "Minimax-Hailuo-2.3-Fast": "minimax_hailuo_2_3_fast",
    "seedance-2-0-fast-260128": "seedance_2_0_fast_260128",
    "happyhorse1.0-i2v": "happyhorse1_0_i2v",
    "vidu-q3-pro-i2v": "vidu_q3_pro_i2v",
}


class UnknownModelError(LookupError):
    """A model id the catalog does not have; the message lists the ones it has."""

    def __init__(self, model_id: str) -> None:
        super().__init__(f"unknown model {model_id!r}; the catalog has: {', '.join(ids())}")
        self.model_id = model_id


def ids() -> tuple[str, ...]:
    return tuple(_MODULES)


def module_name(model_id: str) -> str:
    try:
        return _MODULES[model_id]
    except KeyError:
        raise UnknownModelError(model_id) from None


@cache
def get(model_id: str) -> type[CatalogModel]:
    """The settings model of one catalog model (imports its module on first use)."""
    module = importlib.import_module(f"{__name__}.{module_name(model_id)}")
    model: type[CatalogModel] = module.MODEL
    if model_id != model.MODEL_ID:  # pragma: no cover - a registry typo, caught by the catalog tests
        raise RuntimeError(f"{module.__name__} defines {model.MODEL_ID!r}, registered as {model_id!r}")
    return model


def time_class_of(model_id: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """The time class of recorded settings (no validation: a stored record is read as it is)."""
    model = get(model_id)
    return {name: as_text(settings.get(name, model.model_fields[name].default)) for name in model.time_class_fields()}


def setting_names() -> frozenset[str]:
    """Every setting name of every model (imports all modules: use off the hot path only)."""
    return frozenset(name for model_id in ids() for name in get(model_id).model_fields)


def split_payload(model_id: str, payload: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """(image value, end-frame value, the other fields) of a GMI payload for this model."""
    model = get(model_id)
    rest = dict(payload)
    image = rest.pop(model.IMAGE_FIELD, None)
    end_frame = rest.pop(model.END_FRAME_FIELD, None) if model.END_FRAME_FIELD else None
    return image, end_frame, rest


class PayloadError(ValueError):
    """A GMI payload this model would refuse (HTTP 400); `errors` has one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _image_problem(model: type[CatalogModel], field: str, value: Any, required: bool) -> str | None:
    if value is None:
        return f"model {model.MODEL_ID!r}: {field} is required" if required else None
    if model.IMAGE_SHAPE == ImageShape.LIST and field == model.IMAGE_FIELD:
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and value[0]):
            return f"model {model.MODEL_ID!r}: {field} must be a list of one image ({model.IMAGE_FORM})"
        return None
    if not isinstance(value, str) or not value:
        return f"model {model.MODEL_ID!r}: {field} must be a string ({model.IMAGE_FORM})"
    return None


def validate_payload(model_id: str, payload: dict[str, Any]) -> CatalogModel:
    """Check a whole GMI payload (strictly: documented JSON types) as the model's page describes it."""
    model = get(model_id)
    image, end_frame, rest = split_payload(model_id, payload)
    errors = [
        problem
        for problem in (
            _image_problem(model, model.IMAGE_FIELD, image, required=True),
            _image_problem(model, model.END_FRAME_FIELD or "", end_frame, required=False),
        )
        if problem
    ]
    try:
        settings = model.model_validate(rest)
    except ValidationError as error:
        raise PayloadError(errors + validation_messages(model, error)) from None
    if errors:
        raise PayloadError(errors)
    return settings


def _property_entry(name: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "required": required}
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    flat = {**schema, **options[0]} if len(options) == 1 else schema
    for key in ("type", "enum", "minimum", "maximum", "maxLength", "default", "description"):
        if key in flat:
            entry[key] = flat[key]
    entry["accepts"] = describe_accepted(schema)
    return entry


def parameter_schema(model_id: str) -> dict[str, Any]:
    """A JSON-schema-like description of one model: its payload fields, where the image goes, its time class."""
    model = get(model_id)
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    image_type: dict[str, Any] = (
        {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1}
        if model.IMAGE_SHAPE == "list"
        else {"type": "string"}
    )
    properties: dict[str, Any] = {
        model.IMAGE_FIELD: {**image_type, "description": f"source image ({model.IMAGE_FORM})"},
        **{name: _property_entry(name, prop, name in required) for name, prop in schema["properties"].items()},
    }
    if model.END_FRAME_FIELD:
        properties[model.END_FRAME_FIELD] = {"type": "string", "description": f"end frame ({model.IMAGE_FORM})"}
    return {
        "model": model_id,
        "docs": model.DOCS_URL,
        "type": "object",
        "properties": properties,
        "required": [model.IMAGE_FIELD, *sorted(required)],
        "additionalProperties": False,
        "image": {"field": model.IMAGE_FIELD, "form": str(model.IMAGE_FORM), "shape": str(model.IMAGE_SHAPE)},
        "end_frame_field": model.END_FRAME_FIELD,
        "audio_field": model.AUDIO_FIELD,
        "duration_field": model.DURATION_FIELD,
        "resolution_field": model.RESOLUTION_FIELD,
        "fixed_resolution": model.FIXED_RESOLUTION,
        "aspect_field": model.ASPECT_FIELD,
        "time_class_fields": list(model.time_class_fields()),
        "rules": list(model.RULES),
        "choices": list(model.CHOICES),
    }


__all__ = [
    "DEFAULT_MODEL_ID",
    "CatalogModel",
    "PayloadError",
    "UnknownModelError",
    "get",
    "ids",
    "module_name",
    "parameter_schema",
    "setting_names",
    "split_payload",
    "time_class_of",
    "validate_payload",
]
