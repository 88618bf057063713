"""What every catalog model declares, and the shared machinery (metadata text -> typed values, error messages).

A model is one pydantic class: its fields are the GMI payload fields (names and JSON types exactly as GMI
documents them), its ClassVars say where the source image goes and what the polling expectation is learned per.
"""

from __future__ import annotations

import re
import types
from enum import StrEnum
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator


class ImageForm(StrEnum):
    """What GMI accepts in the image field (we always send a presigned https URL)."""

    URL = "url"
    URL_OR_BASE64 = "url_or_base64"


class ImageShape(StrEnum):
    """How the image field is written: one string, or a list of strings."""

    STRING = "string"
    LIST = "list"


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_INTEGER = re.compile(r"[+-]?\d+")


class CatalogModel(BaseModel):
    """Base of every model's settings: all payload fields except the image and end-frame fields.

    Strict: a payload value must already have its documented JSON type ("5" is not 5). Text from S3
    metadata or the command line goes through `from_text` first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    MODEL_ID: ClassVar[str]
    DOCS_URL: ClassVar[str]
    IMAGE_FIELD: ClassVar[str]
    IMAGE_FORM: ClassVar[ImageForm] = ImageForm.URL
    IMAGE_SHAPE: ClassVar[ImageShape] = ImageShape.STRING
    END_FRAME_FIELD: ClassVar[str | None] = None
    AUDIO_FIELD: ClassVar[str | None] = None
    DURATION_FIELD: ClassVar[str] = "duration"
    # The field that picks resolution/quality, or None when the model has one fixed resolution.
    RESOLUTION_FIELD: ClassVar[str | None] = None
    FIXED_RESOLUTION: ClassVar[str | None] = None
    # The field that picks the aspect ratio; None: the video follows the source image.
    ASPECT_FIELD: ClassVar[str | None] = None
    # Fields the docs mark "required" although they have defaults (we always send them).
    MARKED_REQUIRED: ClassVar[tuple[str, ...]] = ()
    # Cross-field rules, in words (the model_validator enforces them).
    RULES: ClassVar[tuple[str, ...]] = ()
    # Choices made where GMI's pages contradict themselves (one line each; the field definitions carry them out).
    CHOICES: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    # ---- facts derived from settings ---------------------------------------------------------------------
    @classmethod
    def time_class_fields(cls) -> tuple[str, ...]:
        """The settings the polling expectation is learned per: resolution x duration by default."""
        return tuple(name for name in (cls.RESOLUTION_FIELD, cls.DURATION_FIELD) if name)

    def time_class(self) -> dict[str, str]:
        """This job's time class, e.g. {"quality": "540p", "duration": "5"} (values as text, None as "default")."""
        return {name: as_text(getattr(self, name)) for name in self.time_class_fields()}

    def duration_seconds(self) -> int:
        return int(getattr(self, self.DURATION_FIELD))

    def video_aspect(self) -> str | None:
        """ "W:H", or None when the video follows the source image."""
        if self.ASPECT_FIELD is None:
            return None
        value = getattr(self, self.ASPECT_FIELD)
        return value if isinstance(value, str) and re.fullmatch(r"\d+:\d+", value) else None

    def payload(self, image_url: str, end_frame_url: str | None = None) -> dict[str, Any]:
        """The GMI request payload: every set or defaulted setting, the image, and the end frame if given."""
        if end_frame_url is not None and self.END_FRAME_FIELD is None:
            raise ValueError(f"model {self.MODEL_ID!r} takes no end frame")
        image: str | list[str] = [image_url] if self.IMAGE_SHAPE == ImageShape.LIST else image_url
        body: dict[str, Any] = {self.IMAGE_FIELD: image, **self.model_dump(exclude_none=True)}
        if end_frame_url is not None and self.END_FRAME_FIELD:
            body[self.END_FRAME_FIELD] = end_frame_url
        return body

    # ---- text input (S3 metadata, --set key=value) -------------------------------------------------------
    @classmethod
    def field_for(cls, name: str) -> str | None:
        """The field a metadata key means: case, '-' and '_' do not matter (S3 lower-cases metadata keys)."""
        wanted = _squash(name)
        return next((field for field in cls.model_fields if _squash(field) == wanted), None)

    @classmethod
    def from_text(cls, name: str, text: str) -> Any:
        """Turn a text value into the field's JSON type when it plainly is one; otherwise leave it to fail."""
        annotation = cls.model_fields[name].annotation
        return _coerce(annotation, text)

    # ---- documentation ----------------------------------------------------------------------------------
    @classmethod
    def accepted(cls, name: str) -> str:
        """Human description of what a field accepts, e.g. '"5", "8", "10"' or 'integer 3-15'."""
        return describe_accepted(cls.model_json_schema()["properties"].get(name, {}))


def _squash(name: str) -> str:
    return name.lower().removeprefix("x-amz-meta-").replace("-", "").replace("_", "")


def as_text(value: Any) -> str:
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coerce(annotation: Any, text: str) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for option in get_args(annotation):
            if option is type(None):
                continue
            coerced = _coerce(option, text)
            if coerced is not text:
                return coerced
        return text
    if origin is Literal:
        if any(isinstance(option, str) for option in get_args(annotation)):
            return text  # a string enum stays a string: "5" is not 5
        return int(text) if _INTEGER.fullmatch(text.strip()) else text
    if annotation is bool:
        lowered = text.strip().lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if annotation is int:
        return int(text) if _INTEGER.fullmatch(text.strip()) else text
    if annotation is float:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _schema_options(schema: dict[str, Any]) -> dict[str, Any]:
    """Flatten pydantic's `anyOf [X, null]` into X (nullable: the field may be left out)."""
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    return {**schema, **options[0]} if len(options) == 1 else schema


def describe_accepted(schema: dict[str, Any]) -> str:
    schema = _schema_options(schema)
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return ", ".join(f'"{v}"' if isinstance(v, str) else str(v).lower() for v in values)
    kind = schema.get("type")
    if kind == "boolean":
        return "true or false"
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        word = "integer" if kind == "integer" else "number"
        if low is not None and high is not None:
            return f"{word} {low}-{high}"
        return f"{word} >= {low}" if low is not None else word
    if kind == "string":
        longest, shortest = schema.get("maxLength"), schema.get("minLength")
        text = "non-empty text" if shortest else "text"
        return f"{text} up to {longest} characters" if longest else text
    if kind == "array":
        return "a list"
    return "see the model's parameters"


def describe_validation_error(model: type[CatalogModel], error: ValidationError) -> str:
    """One clause per problem, each naming the model, the field and the values it accepts."""
    return "; ".join(validation_messages(model, error))


def validation_messages(model: type[CatalogModel], error: ValidationError) -> list[str]:
    """Unknown settings are named together in one clause, followed once by the settings the model has."""
    problems = validation_problems(model, error)
    unknown = [field for field, kind, _ in problems if kind == "extra_forbidden"]
    messages = [message for _, kind, message in problems if kind != "extra_forbidden"]
    if unknown:
        names = ", ".join(map(repr, unknown))
        plural = "s" if len(unknown) > 1 else ""
        messages.insert(
            0, f"model {model.MODEL_ID!r} has no setting{plural} {names}; its settings: {', '.join(model.model_fields)}"
        )
    return messages


def validation_problems(model: type[CatalogModel], error: ValidationError) -> list[tuple[str, str, str]]:
    """(field, pydantic error type, message) per problem; field is "" for a cross-field rule."""
    parts = []
    for item in error.errors():
        field = ".".join(str(loc) for loc in item["loc"])
        if item["type"] == "extra_forbidden":
            message = (
                f"model {model.MODEL_ID!r} has no setting {field!r}; its settings: {', '.join(model.model_fields)}"
            )
            parts.append((field, item["type"], message))
            continue
        if not field:  # a cross-field rule: its message names the fields and values itself
            parts.append(("", item["type"], f"model {model.MODEL_ID!r}: {item['msg'].removeprefix('Value error, ')}"))
            continue
        reason = "is required" if item["type"] == "missing" else "is not accepted"
        shown = item.get("input")
        if isinstance(shown, str) and len(shown) > 60:
            shown = shown[:57] + "..."
        got = f" (got {shown!r})" if item["type"] != "missing" and isinstance(shown, str | int | float) else ""
        message = f"model {model.MODEL_ID!r}: {field} {reason}{got}; accepts {model.accepted(field)}"
        parts.append((field, item["type"], message))
    return parts
