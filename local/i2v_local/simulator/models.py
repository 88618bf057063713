"""GET /models and GET /models/{id}: the models this simulator accepts and their parameters.

Shapes follow the API reference (`{"model_ids": [...]}`; parameter items `name, display_name,
description, type, required`), plus the SDK's `models` list of objects, since the two sources
disagree (gmi-docs README, contradiction 4) and a client may read either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from i2v.domain import catalog

from .contract import contract_model

# price_info {price, pricing_type, unit} (the SDK's GetModelResponse) for the models whose price the simulator
# knows. GMI documents the object's shape only; the values follow our reading (i2v.domain.pricing). Default:
# kling-3.0-turbo-i2v's documented $0.112/s, its default (720p) rate, since price_info holds one number.
KNOWN_PRICES: dict[str, dict[str, Any]] = {
    "kling-3.0-turbo-i2v": {"price": 112_000, "pricing_type": "per_second", "unit": "usd_micros"},
}


def model_list(models: Iterable[str]) -> dict[str, Any]:
    ids = list(models)
    return {"model_ids": ids, "models": [{"model": model} for model in ids]}


def model_detail(model: str, org_id: str, price_info: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **({"price_info": price_info} if price_info is not None else {}),
        "model": model,
        "org_id": org_id,
        "brief_description": f"{model} (GMI simulator): image to video",
        "model_type": "video",
        "parameters": parameters(model),
        # The catalog's JSON-schema-like description (image field, end frame, time class, our readings).
        "parameter_schema": catalog.parameter_schema(contract_model(model).MODEL_ID),
    }


def parameters(model: str) -> list[dict[str, Any]]:
    """The request parameters of `model`, from the catalog model whose contract the simulator enforces."""
    schema = catalog.parameter_schema(contract_model(model).MODEL_ID)
    required = set(schema["required"])
    items = []
    for name, prop in schema["properties"].items():
        extra = {key: prop[key] for key in ("enum", "minimum", "maximum", "maxLength", "default") if key in prop}
        description = prop.get("description") or f"accepts {prop.get('accepts', 'see the model')}"
        items.append(_param(name, str(prop.get("type", "string")), name in required, description, **extra))
    return items


def _param(name: str, kind: str, required: bool, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": name.replace("_", " ").capitalize(),
        "description": description,
        "type": kind,
        "required": required,
        **extra,
    }
