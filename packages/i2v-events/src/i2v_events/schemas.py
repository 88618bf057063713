"""JSON Schemas generated from the models: the published files and the EventBridge Schema Registry's form.

- `detail_schema(kind)`: draft 2020-12 schema of one detail, as committed in `schemas/events/v1/{kind}.json`.
  Objects are closed (`additionalProperties: false`): it states exactly what v1 emits today, so the
  pipeline's tests catch a field that was added to an event without being added here.
- `registry_schema(kind, source)`: the whole EventBridge event in JSON Schema draft 4 (a format the Schema
  Registry accepts, and downloads code bindings for), its `detail` being `detail_schema(kind)` converted.

`python -m i2v_events.schemas DIR` writes the detail files, each kind's sample event (`i2v_events/samples/<kind>.json`,
from its `SAMPLE`) and the kinds table of docs/subscribers.md (between its marker comments, from the registry);
`--check` compares instead.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from i2v_events.v1.fields import NEVER_NULL, OPEN_OBJECT, SCHEMA_VERSION
from i2v_events.v1.kinds import DETAIL_KINDS, DETAIL_MODELS, KINDS

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DRAFT_4 = "http://json-schema.org/draft-04/schema#"
SCHEMA_ID_BASE = f"https://github.com/i2v-pipeline/schemas/events/v{SCHEMA_VERSION}"
# Annotations of pydantic's output that say nothing to a validator or a code generator.
_NOISE = ("title", "examples")


def detail_schema(kind: str) -> dict[str, Any]:
    """Draft 2020-12 schema of the `kind` ("submitted", "succeeded", ...) detail, as published."""
    detail_type = DETAIL_KINDS[kind]
    body = _clean(DETAIL_MODELS[detail_type].model_json_schema())
    body.pop("description", None)
    return {
        "$schema": DRAFT_2020_12,
        "$id": f"{SCHEMA_ID_BASE}/{kind}.json",
        "title": str(detail_type),
        "description": (
            f"detail of the '{detail_type}' event on the pipeline's EventBridge bus (schema version {SCHEMA_VERSION})"
        ),
        **body,
    }


def registry_schema(kind: str, source: str) -> dict[str, Any]:
    """Draft 4 schema of the whole `kind` event from `source`, for an AWS::EventSchemas::Schema."""
    detail_type = str(DETAIL_KINDS[kind])
    event = _clean(KINDS[kind].event().model_json_schema(by_alias=True))
    event["properties"]["source"] = {"type": "string", "enum": [source]}
    event["properties"]["detail"] = to_draft4(_without_header(detail_schema(kind)))
    return {
        "$schema": DRAFT_4,
        "title": detail_type,
        "description": f"The '{detail_type}' event of the i2v pipeline (detail schema version {SCHEMA_VERSION})",
        **to_draft4(event),
        "x-amazon-events-detail-type": detail_type,
        "x-amazon-events-source": source,
    }


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """The same constraints in draft 4 words (`const` is 2019+; draft 4 says `enum` of one)."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "exclusiveMinimum" in node or "exclusiveMaximum" in node:
            raise ValueError("exclusive bounds differ between drafts; use ge/le in the models")
        out = {key: convert(value) for key, value in node.items() if key not in ("$schema", "$id", "const")}
        if "const" in node:
            out["enum"] = [node["const"]]
        return out

    result: dict[str, Any] = convert(schema)
    return result


def _without_header(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id", "title", "description")}


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    """pydantic's schema, made self-contained and strict: refs inlined, titles dropped, `X | None` as a type
    list, never-null fields without their null branch, every object closed."""
    definitions = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            node = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
        out = {k: walk(v) for k, v in node.items() if k not in (*_NOISE, "$defs")}
        branches = out.get("anyOf")
        if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
            out = _merge_null(out, next(b for b in branches if b != {"type": "null"}))
        if out.pop(OPEN_OBJECT, False):
            out["additionalProperties"] = True
        elif out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
        return out

    result: dict[str, Any] = walk(schema)
    return result


def _merge_null(node: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if rest.pop(NEVER_NULL, False):
        rest.pop("default", None)
        return {**other, **rest}
    if isinstance(other.get("type"), str) and "enum" not in other and "const" not in other:
        return {**other, **rest, "type": [other["type"], "null"]}
    return {**node}


SAMPLES = Path(__file__).parent / "samples"
TABLE_START = "<!-- generated by `python -m i2v_events.schemas`: the event kinds -->"
TABLE_END = "<!-- end of generated event kinds -->"


def kinds_table() -> str:
    """docs/subscribers.md's table of the kinds, one row per kind of the registry, in its order."""
    rows = ["| detail-type | when | detail schema |", "| --- | --- | --- |"]
    for name, kind in KINDS.items():
        path = f"schemas/events/v{SCHEMA_VERSION}/{name}.json"
        rows.append(f"| `{kind.detail_type}` | {kind.when} | [`{path}`](../{path}) |")
    return "\n".join(rows) + "\n"


def with_kinds_table(doc: Path) -> str:
    """`doc`'s text with the table between its markers regenerated."""
    text = doc.read_text()
    head, start, rest = text.partition(TABLE_START + "\n")
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError(f"{doc}: no {TABLE_START!r} ... {TABLE_END!r} markers")
    return f"{head}{start}{kinds_table()}{end}{tail}"


def generated(directory: Path, samples: Path = SAMPLES, docs: Path | None = None) -> dict[Path, str]:
    """Every generated file (path -> text): the detail schemas, the samples and, with `docs`, its kinds table."""
    files = {directory / f"{kind}.json": json.dumps(detail_schema(kind), indent=2) + "\n" for kind in KINDS}
    files |= {samples / f"{name}.json": json.dumps(kind.sample, indent=2) + "\n" for name, kind in KINDS.items()}
    if docs is not None:
        files[docs] = with_kinds_table(docs)
    return files


def _default_docs(directory: Path) -> Path | None:
    """docs/subscribers.md of the checkout whose schemas/events/v1 is `directory`, if there is one."""
    parents = directory.resolve().parents
    docs = parents[2] / "docs" / "subscribers.md" if len(parents) > 2 else None
    return docs if docs is not None and docs.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) the files generated from the v1 kinds")
    parser.add_argument("directory", type=Path, help="the detail schemas' directory, e.g. schemas/events/v1")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="default: the package's own samples")
    parser.add_argument("--docs", type=Path, help="default: DIRECTORY/../../../docs/subscribers.md, if it exists")
    parser.add_argument("--check", action="store_true", help="fail if a file differs from the models")
    args = parser.parse_args(argv)
    docs = args.docs or _default_docs(args.directory)
    stale = []
    for path, text in generated(args.directory, args.samples, docs).items():
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run python -m i2v_events.schemas DIR): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
