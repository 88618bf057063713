"""The request contract of the GMI request-queue API, enforced per model like the real service.

Each catalog model's contract (field names, JSON types, enums, ranges, cross-field rules) comes from the
pipeline's own catalog (`i2v.domain.catalog`), so the simulator and the pipeline read GMI's pages the same way.
Validation collects every problem so a 400 names all fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from pydantic import ValidationError

from i2v.domain import catalog
from i2v.domain.catalog import CatalogModel
from i2v.domain.catalog.base import validation_problems

API_PREFIX: Final = "/api/v1/ie/requestqueue/apikey/requests"
DEFAULT_MODEL: Final = catalog.DEFAULT_MODEL_ID
TOP_LEVEL_FIELDS: Final = frozenset({"model", "payload"})


class ContractError(ValueError):
    """A 400: `errors` holds one message per offending field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class RenderPlan:
    """What the renderer needs from a validated payload: where the frames are, the shape and the length."""

    image_url: str
    end_frame_url: str | None
    aspect_ratio: str | None  # "W:H", or None: follow the source image
    seconds: int


def contract_model(model: str) -> type[CatalogModel]:
    """The catalog model whose contract applies; extra ids configured on the simulator use the default model's."""
    return catalog.get(model if model in catalog.ids() else DEFAULT_MODEL)


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _url_problem(field: str, value: Any) -> str | None:
    # We always send presigned URLs; the simulator fetches them, so it insists on http(s).
    if not isinstance(value, str) or not value.strip():
        return f"payload.{field}: required, must be a non-empty string URL"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"payload.{field}: must be an absolute http or https URL"
    return None


def _image_urls(model: type[CatalogModel], payload: dict[str, Any]) -> tuple[Any, Any]:
    image = payload.get(model.IMAGE_FIELD)
    if model.IMAGE_SHAPE == "list" and isinstance(image, list) and len(image) == 1:
        image = image[0]
    end_frame = payload.get(model.END_FRAME_FIELD) if model.END_FRAME_FIELD else None
    return image, end_frame


def _payload_errors(model_id: str, model: type[CatalogModel], payload: dict[str, Any]) -> list[str]:
    """Every problem of the payload, each as `payload.<field>: ...` naming the model and the accepted values."""
    errors: list[str] = []
    image, end_frame = _image_urls(model, payload)
    if model.IMAGE_SHAPE == "list" and not (isinstance(payload.get(model.IMAGE_FIELD), list)):
        errors.append(f"payload.{model.IMAGE_FIELD}: required, must be a list of one URL")
    elif found := _url_problem(model.IMAGE_FIELD, image):
        errors.append(found)
    if model.END_FRAME_FIELD in payload and (found := _url_problem(str(model.END_FRAME_FIELD), end_frame)):
        errors.append(found)
    images = {model.IMAGE_FIELD, model.END_FRAME_FIELD}
    rest = {name: value for name, value in payload.items() if name not in images}
    unknown = sorted(set(rest) - set(model.model_fields))
    if unknown:
        allowed = sorted({*model.model_fields, *(name for name in images if name)})
        errors.append(f"payload: unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    try:
        model.model_validate({name: value for name, value in rest.items() if name in model.model_fields})
    except ValidationError as error:
        for field, _, message in validation_problems(model, error):
            errors.append(f"payload.{field}: {message}" if field else f"payload: {message}")
    if model_id != model.MODEL_ID:  # an extra id configured on the simulator: name it, not the stand-in
        errors = [error.replace(repr(model.MODEL_ID), repr(model_id)) for error in errors]
    return errors


def validate_request(
    body: Any,
    *,
    models: Iterable[str] = (),
    strict_required: bool = False,
) -> tuple[str, dict[str, Any]]:
    """Return (model, payload with the model's documented defaults) or raise ContractError.

    Known models: every catalog model plus `models` (extra ids, checked with the default model's contract).
    """
    if not isinstance(body, dict):
        raise ContractError(["body: must be a JSON object with 'model' and 'payload'"])
    errors: list[str] = []
    known_models = tuple(dict.fromkeys((*catalog.ids(), *models)))
    unknown_top = sorted(set(body) - TOP_LEVEL_FIELDS)
    if unknown_top:
        errors.append(f"unknown field(s): {', '.join(unknown_top)}; allowed: model, payload")

    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        errors.append(f"model: required, one of {_allowed(known_models)}")
    elif model_id not in known_models:
        errors.append(f"model: unknown model {model_id!r}; known: {_allowed(known_models)}")

    payload = body.get("payload")
    if not isinstance(payload, dict):
        errors.append("payload: required, must be a JSON object")
        raise ContractError(errors)
    if errors:
        raise ContractError(errors)
    model = contract_model(str(model_id))
    if strict_required:
        errors.extend(f"payload.{name}: required" for name in model.MARKED_REQUIRED if name not in payload)
    errors.extend(_payload_errors(str(model_id), model, payload))
    if errors:
        raise ContractError(errors)
    settings = model.model_validate({k: v for k, v in payload.items() if k in model.model_fields})
    image, end_frame = _image_urls(model, payload)
    resolved = settings.payload(str(image), str(end_frame) if end_frame else None)
    return str(model_id), resolved


def render_plan(model_id: str, payload: dict[str, Any]) -> RenderPlan:
    """The frames, aspect ratio and length of a payload `validate_request` accepted."""
    model = contract_model(model_id)
    image, end_frame = _image_urls(model, payload)
    # Already validated: construct (defaults filled in) rather than validate again.
    settings = model.model_construct(**{k: v for k, v in payload.items() if k in model.model_fields})
    return RenderPlan(
        str(image), str(end_frame) if end_frame else None, settings.video_aspect(), settings.duration_seconds()
    )


def source_image_url(body: Any) -> str | None:
    """The source image URL of a request body, whatever the model calls the field (None if absent)."""
    if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
        return None
    model_id = body.get("model")
    model = contract_model(model_id if isinstance(model_id, str) else DEFAULT_MODEL)
    image, _ = _image_urls(model, body["payload"])
    return image if isinstance(image, str) else None
