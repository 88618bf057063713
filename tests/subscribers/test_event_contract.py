"""The v1 event contract: schemas generated from the typed package's models, compatible with the frozen v1, and
in step with what the pipeline's domain can emit (which builds its details from these models: tests/unit/test_event_details.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from i2v.domain.jobs import FailureCategory as DomainFailureCategory
from i2v_events.schemas import detail_schema, main, registry_schema, to_draft4
from i2v_events.v1 import DETAIL_KINDS, FailureCategory
from support.schema_compat import breaking_changes, types_of

REPO = Path(__file__).parents[2]
PUBLISHED = REPO / "schemas" / "events" / "v1"
# The v1 schemas as first published (before the typed package existed). Never edit these files.
FROZEN = Path(__file__).parent / "frozen_v1"
KINDS = sorted(DETAIL_KINDS)
# Each kind as first published (a kind added to v1 is frozen here once released).
FROZEN_KINDS = sorted(path.stem for path in FROZEN.glob("*.json"))


def frozen(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FROZEN / f"{kind}.json").read_text())
    return loaded


def test_published_files_are_generated_from_the_models() -> None:
    # `python -m i2v_events.schemas schemas/events/v1` rewrites them, each kind's sample and the docs' kinds table.
    assert main([str(PUBLISHED), "--check"]) == 0


@pytest.mark.parametrize("stale", ["schemas/failed.json", "samples/succeeded.json", "subscribers.md"])
def test_a_stale_file_is_reported(tmp_path: Path, stale: str) -> None:
    docs = tmp_path / "subscribers.md"
    docs.write_text((REPO / "docs" / "subscribers.md").read_text())
    where = [str(tmp_path / "schemas"), "--samples", str(tmp_path / "samples"), "--docs", str(docs)]
    assert main(where) == 0
    assert main([*where, "--check"]) == 0
    path = tmp_path / stale
    path.write_text(path.read_text().replace("Video Generation", "Video"))
    assert main([*where, "--check"]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_generated_schema_is_valid_draft_2020_12_and_draft_4(kind: str) -> None:
    Draft202012Validator.check_schema(detail_schema(kind))
    Draft4Validator.check_schema(registry_schema(kind, "i2v.pipeline"))


# The one deliberate exception to "v1 only grows", with its reason (docs/subscribers.md): since the model catalog
# each model sends its own documented parameters, so Submitted's `settings` opened to every model's keys.
ACCEPTED_BREAKS = {
    "submitted": "detail.settings",
}


@pytest.mark.parametrize("kind", FROZEN_KINDS)
def test_v1_only_grows(kind: str) -> None:
    exempt = ACCEPTED_BREAKS.get(kind)
    breaks = [
        change for change in breaking_changes(frozen(kind), detail_schema(kind)) if not (exempt and exempt in change)
    ]
    assert breaks == []


def test_every_kind_ever_published_is_still_published() -> None:
    assert set(FROZEN_KINDS) <= set(KINDS)


def test_the_settings_exception_is_exactly_the_settings() -> None:
    changes = breaking_changes(frozen("submitted"), detail_schema("submitted"))
    assert changes
    assert all("detail.settings" in change for change in changes)


def test_the_domain_records_the_failure_categories_of_the_contract() -> None:
    # One list: the pipeline can only record (and so emit) a category v1 lists.
    assert DomainFailureCategory is FailureCategory


def test_registry_detail_is_the_published_detail_in_draft_4() -> None:
    for kind in KINDS:
        published = json.loads((PUBLISHED / f"{kind}.json").read_text())
        header = ("$schema", "$id", "title", "description")
        expected = to_draft4({k: v for k, v in published.items() if k not in header})
        assert registry_schema(kind, "i2v.pipeline")["properties"]["detail"] == expected


def test_to_draft4_spells_const_as_enum() -> None:
    assert to_draft4({"$schema": "x", "properties": {"v": {"const": "1"}}}) == {"properties": {"v": {"enum": ["1"]}}}
    with pytest.raises(ValueError, match="exclusive"):
        to_draft4({"exclusiveMinimum": 0})


# ---- the compatibility check itself must catch each kind of break ---------------------------------------------


def _mutated(change: str) -> dict[str, Any]:
    schema = copy.deepcopy(frozen("succeeded"))
    props = schema["properties"]
    if change == "remove":
        del props["generation_seconds"]
    elif change == "retype":
        props["attempt"] = {"type": "string"}
    elif change == "nullable":
        props["model"]["type"] = ["string", "null"]
    elif change == "optional":
        schema["required"].remove("request_id")
    elif change == "nested":
        del props["output"]["properties"]["size"]
    elif change == "const":
        props["schema_version"] = {"const": "2"}
    return schema


@pytest.mark.parametrize("change", ["remove", "retype", "nullable", "optional", "nested", "const"])
def test_compatibility_check_catches(change: str) -> None:
    assert breaking_changes(frozen("succeeded"), _mutated(change)) != []


def test_compatibility_check_catches_a_lost_enum_value() -> None:
    new = copy.deepcopy(frozen("failed"))
    new["properties"]["failure"]["properties"]["category"]["enum"].remove("budget")
    assert breaking_changes(frozen("failed"), new) == [
        "detail.failure.category: values ['budget'] are no longer listed"
    ]


def test_compatibility_check_allows_additions() -> None:
    new = copy.deepcopy(frozen("failed"))
    new["properties"]["extra"] = {"type": "integer"}
    new["properties"]["failure"]["properties"]["category"]["enum"].append("brand_new")
    assert breaking_changes(frozen("failed"), new) == []


def test_types_of_reads_every_spelling() -> None:
    assert types_of({"anyOf": [{"type": "string"}, {"type": "null"}]}) == {"string", "null"}
    assert types_of({"enum": ["a", None]}) == {"string", "null"}
    assert types_of({"const": 1}) == {"integer"}
