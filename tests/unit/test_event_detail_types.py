"""The pipeline's EventDetailType is the subscribers' DetailType, and names its schema file."""

from __future__ import annotations

from pathlib import Path

from i2v.domain.record import EventDetailType
from i2v_events.v1 import DetailType

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events" / "v1"


def test_the_pipeline_publishes_the_detail_types_subscribers_parse() -> None:
    assert {str(t) for t in EventDetailType} == {str(t) for t in DetailType}


def test_each_detail_type_has_its_schema() -> None:
    assert {f"{t.kind}.json" for t in EventDetailType} == {path.name for path in SCHEMAS.glob("*.json")}
