"""GET /models and GET /models/{id}: the models this simulator accepts and their parameters.

Shapes follow the API reference (`{"model_ids": [...]}`; parameter items `name, display_name,
description, type, required`), plus the SDK's `models` list of objects, since the two sources
disagree (gmi-docs README, contradiction 4) and a client may read either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .contract import DEFAULTS, DURATIONS, SEED_MAX


def model_list(models: Iterable[str]) -> dict[str, Any]:
    ids = list(models)
    return {"model_ids": ids, "models": [{"model": model} for model in ids]}


def model_detail(model: str, org_id: str) -> dict[str, Any]:
    return {
        "model": model,
        "org_id": org_id,
        "brief_description": f"{model} (GMI simulator): image to video",
        "model_type": "video",
        "parameters": parameters(model),
    }


def parameters(model: str) -> list[dict[str, Any]]:
    """The request parameters of `model`, from the simulator's contract."""
    return [
        _param("image_url", "string", True, "source image, a public URL"),
        _param("prompt", "string", True, "what should happen"),
        _param("negative_prompt", "string", False, "what should not", default=DEFAULTS["negative_prompt"]),
        _param("duration", "string", False, "seconds", enum=list(DURATIONS), default=DEFAULTS["duration"]),
        _param("seed", "integer", False, "random seed", minimum=0, maximum=SEED_MAX),
    ]


def _param(name: str, kind: str, required: bool, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": name.replace("_", " ").capitalize(),
        "description": description,
        "type": kind,
        "required": required,
        **extra,
    }
