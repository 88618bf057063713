"""The one event contract, in milliseconds: every kind's detail as the pipeline builds it (i2v.domain.events) is
valid against its registry schema (schemas/events/v1), carries every field the schema lists, parses with the
subscribers' model, and is byte for byte what the pipeline emitted before the details were built from the models
(support/event_details_v1_wire.json, captured from the dict builders it replaced)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import ValidationError

from i2v.domain import events
from i2v.domain.jobs import JobStatus
from i2v_events import parse_event, parse_webhook
from i2v_events.samples import sample_event
from i2v_events.v1 import DETAIL_KINDS, DETAIL_MODELS, EVENT_MODELS, DetailType
from i2v_events.webhooks import WEBHOOK_TYPES
from support.event_jobs import INPUTS, JOBS

HERE = Path(__file__).parent
SCHEMAS = HERE.parents[1] / "schemas" / "events" / "v1"
WIRE: dict[str, str] = json.loads((HERE.parent / "support" / "event_details_v1_wire.json").read_text())
NOW = datetime(2026, 12, 7, 10, 15, 42, 120000, tzinfo=UTC)


CASES = [(kind, variant) for kind in DETAIL_KINDS for variant in INPUTS[kind]]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "utc_now", lambda: NOW)


def emit(kind: str, variant: str) -> dict[str, Any]:
    """What the services publish: `<kind>_detail` of i2v.domain.events, one builder per kind."""
    detail: dict[str, Any] = getattr(events, f"{kind}_detail")(INPUTS[kind][variant])
    return detail


def schema(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{kind}.json").read_text())
    return loaded


def listed_fields(node: dict[str, Any], prefix: str = "") -> set[str]:
    """Every property path a schema lists (not inside an open object)."""
    found = set()
    for name, child in node.get("properties", {}).items():
        found.add(prefix + name)
        if child.get("additionalProperties") is False:
            found |= listed_fields(child, f"{prefix}{name}.")
    return found


def present_fields(detail: dict[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for name, value in detail.items():
        found.add(prefix + name)
        if isinstance(value, dict):
            found |= present_fields(value, f"{prefix}{name}.")
    return found


@pytest.mark.parametrize(("kind", "variant"), CASES)
def test_each_emitted_detail_is_valid_against_its_registry_schema(kind: str, variant: str) -> None:
    detail = emit(kind, variant)
    validator = Draft202012Validator(schema(kind), format_checker=FormatChecker())
    assert [error.message for error in validator.iter_errors(detail)] == []
    DETAIL_MODELS[DETAIL_KINDS[kind]].model_validate(detail)


@pytest.mark.parametrize("case", sorted(WIRE))
def test_the_wire_is_byte_for_byte_what_v1_emitted(case: str) -> None:
    # Serialized as the publisher does (adapters.publisher: json.dumps(detail, default=str)). A kind added
    # later has no capture here: its schema, its model and the checks above are its contract.
    kind, variant = case.split("/")
    assert json.dumps(emit(kind, variant), default=str) == WIRE[case]


@pytest.mark.parametrize("kind", list(DETAIL_KINDS))
def test_a_full_detail_carries_every_field_its_schema_lists(kind: str) -> None:
    # Fails when a field is dropped from a model (the builder raises) or a schema lists one nothing emits.
    assert listed_fields(schema(kind)) - present_fields(emit(kind, "full")) == set()


def test_every_failed_status_is_emitted() -> None:
    statuses = {emit("failed", variant)["status"] for variant in JOBS["failed"]}
    assert statuses == {JobStatus.FAILED, JobStatus.REJECTED, JobStatus.SUBMIT_AMBIGUOUS, JobStatus.TIMED_OUT}


def test_a_field_the_model_lacks_raises_instead_of_vanishing() -> None:
    fields = {**emit("failed", "full"), "retry_hint": "later"}
    with pytest.raises(events.EventContractError, match=r"FailedDetail: retry_hint"):
        events.emitted(DetailType.FAILED, fields)
    nested = {**emit("failed", "full"), "failure": {"category": "internal", "message": "m", "code": 7}}
    with pytest.raises(events.EventContractError, match=r"FailedDetail\.failure: code"):
        events.emitted(DetailType.FAILED, nested)


def test_a_detail_the_model_refuses_is_not_emitted() -> None:
    with pytest.raises(ValidationError, match="job_id"):
        events.emitted(DetailType.FAILED, {**emit("failed", "full"), "job_id": "not-hex"})


def test_one_registry_of_kinds_names_everything_a_kind_has() -> None:
    kinds = set(DETAIL_KINDS)
    assert {path.stem for path in SCHEMAS.glob("*.json")} == kinds
    assert set(EVENT_MODELS) == kinds
    assert {name.removeprefix("video.") for name in WEBHOOK_TYPES} == kinds
    assert {kind for kind in kinds if callable(getattr(events, f"{kind}_detail", None))} == kinds
    for kind in kinds:
        sample = sample_event(kind)
        assert sample["detail-type"] == DETAIL_KINDS[kind]
        # The whole event and the webhook message of the kind are in their unions.
        assert parse_event(sample).detail == DETAIL_MODELS[DETAIL_KINDS[kind]].model_validate(sample["detail"])
        body = {"type": f"video.{kind}", "timestamp": sample["time"], "data": sample["detail"]}
        assert parse_webhook(json.dumps(body)).data == parse_event(sample).detail
