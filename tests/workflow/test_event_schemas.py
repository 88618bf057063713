"""Every event the pipeline publishes validates against its versioned JSON Schema in schemas/events/v1/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from i2v_cli.uploads import encode_metadata_value
from i2v_events import parse_event
from i2v_events.v1 import DETAIL_KINDS, DetailType
from i2v_local.stack.driver import PipelineDriver

pytestmark = pytest.mark.xdist_group(__name__)

SCHEMAS = Path(__file__).parents[2] / "schemas" / "events" / "v1"


def validators() -> dict[str, Draft202012Validator]:
    found = {}
    for kind, detail_type in DETAIL_KINDS.items():
        schema = json.loads((SCHEMAS / f"{kind}.json").read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["title"] == detail_type
        found[detail_type] = Draft202012Validator(schema, format_checker=FormatChecker())
    return found


def test_schemas_are_valid_and_cover_every_detail_type() -> None:
    assert set(validators()) == set(DetailType)


def test_emitted_events_match_their_schemas(local_stack_factory: Any, local_gmi: Any) -> None:
    stack = local_stack_factory(gmi_timeout_seconds=1.0)
    pipeline = PipelineDriver(stack)
    tap = stack.tap_events()
    pipeline.upload(
        "incoming/schemas/fine.png", prompt=encode_metadata_value("ñandú, calm sea"), quality="720p", seed="42"
    )
    pipeline.upload("incoming/schemas/fails.png", prompt="x [sim:fail message=render-exploded]")
    pipeline.upload("incoming/schemas/ambiguous.png", prompt="x [sim:post_timeout_after_accept seconds=3]")
    pipeline.upload("incoming/schemas/notes.jpg", body=b"not an image")
    stack.run_until_idle(timeout=60)

    events: list[dict[str, Any]] = tap.drain()
    checks = validators()
    statuses = set()
    for event in events:
        errors = sorted(checks[event["detail-type"]].iter_errors(event["detail"]), key=str)
        assert not errors, f"{event['detail-type']}: {[e.message for e in errors]}"
        # ... and the typed subscriber package reads it (packages/i2v-events).
        assert parse_event(event).detail.job_id == event["detail"]["job_id"]
        statuses.add((event["detail-type"], event["detail"]["status"]))
    assert statuses == {
        (DetailType.SUBMITTED, "submitted"),
        (DetailType.SUCCEEDED, "succeeded"),
        (DetailType.FAILED, "failed"),
        (DetailType.FAILED, "submit_ambiguous"),
        (DetailType.FAILED, "rejected"),
        (DetailType.PREVIEW_READY, "succeeded"),
    }
