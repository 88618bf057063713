"""What subscribers see of the stack: the event schemas in an EventBridge Schema Registry, and rules on the bus.

The registry's schemas are generated from the typed package's models (`i2v_events.schemas`), the same source
as `schemas/events/v1/*.json`, so subscribers can download code bindings that match what the pipeline emits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from constructs import Construct

from i2v_events.schemas import registry_schema
from i2v_events.v1 import DETAIL_KINDS, FailedStatus

SCHEMA_TYPE = "JSONSchemaDraft4"  # the registry takes OpenApi3 or JSONSchemaDraft4; ours are 2020-12 files


def schema_name(source: str, kind: str) -> str:
    """`i2v.pipeline@VideoGenerationSucceeded`: the naming of the schemas EventBridge discovers itself."""
    return f"{source}@{str(DETAIL_KINDS[kind]).replace(' ', '')}"


class EventSchemaRegistry(Construct):
    """One registry, one schema per detail type (draft 4 of the whole event, its `detail` typed)."""

    def __init__(self, scope: Construct, construct_id: str, *, source: str) -> None:
        super().__init__(scope, construct_id)
        self.registry = eventschemas.CfnRegistry(
            self, "Registry", description=f"Events of the i2v pipeline (source {source}); detail schema version 1"
        )
        self.schemas: dict[str, eventschemas.CfnSchema] = {}
        for kind, detail_type in DETAIL_KINDS.items():
            self.schemas[kind] = eventschemas.CfnSchema(
                self,
                f"{kind.capitalize()}Schema",
                registry_name=self.registry.attr_registry_name,
                schema_name=schema_name(source, kind),
                type=SCHEMA_TYPE,
                content=json.dumps(registry_schema(kind, source), separators=(",", ":")),
                description=f"'{detail_type}' event (detail schema_version 1; additive changes only)",
            )


def video_event_pattern(source: str, kind: str, statuses: Sequence[str] | None = None) -> events.EventPattern:
    """The pattern of one kind of pipeline event, optionally narrowed to some Failed statuses."""
    if statuses is not None:
        unknown = sorted(set(statuses) - {s.value for s in FailedStatus})
        if not statuses or unknown:
            raise ValueError(f"statuses must be some of {[s.value for s in FailedStatus]}, got {list(statuses)}")
    return events.EventPattern(
        source=[source],
        detail_type=[str(DETAIL_KINDS[kind])],
        detail={"status": list(statuses)} if statuses else None,
    )
