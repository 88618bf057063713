"""Rules every catalog model follows; each model's own rules are in test_catalog_<module>.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

from i2v.domain import catalog
from i2v.domain.catalog import PayloadError, parameter_schema, validate_payload
from i2v.domain.catalog.base import ImageShape

PACKAGE = Path(catalog.__file__).parent
HERE = Path(__file__).parent
IDS = catalog.ids()


def test_every_module_is_registered_and_has_its_own_test() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "base"}
    assert modules == {catalog.module_name(model_id) for model_id in IDS}
    missing = [m for m in modules if not (HERE / f"test_catalog_{m}.py").is_file()]
    assert missing == []


def test_importing_the_catalog_loads_no_model_module() -> None:
    code = (
        "import sys, json, i2v.domain.catalog, i2v.domain.settings; "
        "print(json.dumps([m for m in sys.modules if m.startswith('i2v.domain.catalog.') and m != "
        "'i2v.domain.catalog.base']))"
    )
    functions = str(Path(catalog.__file__).parents[3])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": functions}
    )
    assert json.loads(out.stdout) == []


def test_unknown_model_lists_the_catalog() -> None:
    with pytest.raises(catalog.UnknownModelError) as error:
        catalog.get("no-such-model")
    assert "no-such-model" in str(error.value)
    assert "pixverse-v5.5-i2v" in str(error.value)


@pytest.mark.parametrize("model_id", IDS)
def test_defaults_build_a_payload_with_the_image_in_the_documented_field(model_id: str) -> None:
    model = catalog.get(model_id)
    settings = model.model_validate({"prompt": "a slow pan"})
    payload = settings.payload("https://example.com/a.png")
    image = payload[model.IMAGE_FIELD]
    assert image == (
        ["https://example.com/a.png"] if model.IMAGE_SHAPE == ImageShape.LIST else "https://example.com/a.png"
    )
    assert validate_payload(model_id, payload) == settings
    assert settings.duration_seconds() >= 1
    assert set(settings.time_class()) == set(model.time_class_fields())
    assert model.DURATION_FIELD in model.time_class_fields()


@pytest.mark.parametrize("model_id", IDS)
def test_end_frame_goes_in_its_field_or_is_refused(model_id: str) -> None:
    model = catalog.get(model_id)
    settings = model.model_validate({"prompt": "p"})
    if model.END_FRAME_FIELD is None:
        with pytest.raises(ValueError, match=r"takes no end frame"):
            settings.payload("https://e/a.png", "https://e/b.png")
    else:
        assert settings.payload("https://e/a.png", "https://e/b.png")[model.END_FRAME_FIELD] == "https://e/b.png"


@pytest.mark.parametrize("model_id", IDS)
def test_unknown_payload_field_names_model_and_its_settings(model_id: str) -> None:
    model = catalog.get(model_id)
    with pytest.raises(PayloadError) as error:
        validate_payload(model_id, {model.IMAGE_FIELD: "https://e/a.png", "prompt": "p", "bogus_field": 1})
    message = str(error.value)
    assert model_id in message
    assert "bogus_field" in message
    assert "prompt" in message


@pytest.mark.parametrize("model_id", IDS)
def test_missing_image_is_refused(model_id: str) -> None:
    with pytest.raises(PayloadError, match=catalog.get(model_id).IMAGE_FIELD):
        validate_payload(model_id, {"prompt": "p"})


def _enum_fields(model_id: str) -> list[tuple[str, str, list[Any]]]:
    schema = parameter_schema(model_id)["properties"]
    return [(model_id, name, prop["enum"]) for name, prop in schema.items() if "enum" in prop]


ENUM_FIELDS = [case for model_id in IDS for case in _enum_fields(model_id)]


@pytest.mark.parametrize(("model_id", "field", "values"), ENUM_FIELDS, ids=[f"{m}-{f}" for m, f, _ in ENUM_FIELDS])
def test_enum_rejection_names_model_field_and_every_accepted_value(
    model_id: str, field: str, values: list[Any]
) -> None:
    model = catalog.get(model_id)
    wrong: Any = "not-a-value" if isinstance(values[0], str) else 999
    with pytest.raises(PayloadError) as error:
        validate_payload(model_id, {model.IMAGE_FIELD: "https://e/a.png", "prompt": "p", field: wrong})
    message = str(error.value)
    assert model_id in message
    assert field in message
    for value in values:
        assert (f'"{value}"' if isinstance(value, str) else str(value)) in message


@pytest.mark.parametrize("model_id", IDS)
def test_string_enums_stay_strings_and_integer_fields_stay_integers(model_id: str) -> None:
    model = catalog.get(model_id)
    duration = model.model_fields[model.DURATION_FIELD].annotation
    default = model.model_fields[model.DURATION_FIELD].default
    other_type = int(default) if isinstance(default, str) else str(default)
    with pytest.raises(PayloadError, match=model.DURATION_FIELD):
        validate_payload(model_id, {model.IMAGE_FIELD: "https://e/a", "prompt": "p", model.DURATION_FIELD: other_type})
    # ...while the same value as text (S3 metadata, --set) becomes the documented type.
    assert model.from_text(model.DURATION_FIELD, str(default)) == default
    assert get_args(duration) or duration is int


@pytest.mark.parametrize("model_id", IDS)
def test_parameter_schema_describes_image_time_class_and_every_field(model_id: str) -> None:
    schema = parameter_schema(model_id)
    model = catalog.get(model_id)
    assert schema["image"]["field"] == model.IMAGE_FIELD
    assert model.IMAGE_FIELD in schema["required"]
    assert set(schema["properties"]) >= set(model.model_fields)
    assert schema["time_class_fields"] == list(model.time_class_fields())
    json.dumps(schema)  # servable as-is
    for name in model.model_fields:
        assert schema["properties"][name]["accepts"]
