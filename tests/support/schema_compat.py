"""The v1 compatibility rule as code: what a schema may not do to a field that an older v1 schema had.

Within a schema version, changes are additive only (docs/subscribers.md): a new optional field, a new value of
an enum. A field that existed may not disappear, change its type (including becoming nullable), stop being
required, lose an enum value or change a constant.
"""

from __future__ import annotations

from typing import Any

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def types_of(node: dict[str, Any]) -> frozenset[str]:
    """The JSON types a schema node admits, however it spells them (type, const, enum, anyOf)."""
    if "type" in node:
        spelled = node["type"]
        return frozenset([spelled] if isinstance(spelled, str) else spelled)
    if "const" in node:
        return frozenset({_JSON_TYPES[type(node["const"])]})
    if "enum" in node:
        return frozenset(_JSON_TYPES[type(value)] for value in node["enum"])
    if "anyOf" in node:
        return frozenset().union(*(types_of(branch) for branch in node["anyOf"]))
    return frozenset()


def _values(node: dict[str, Any]) -> set[Any] | None:
    if "const" in node:
        return {node["const"]}
    if "enum" in node:
        return set(node["enum"])
    return None


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "detail") -> list[str]:
    """Every way `new` breaks a reader of `old` (empty: compatible)."""
    problems: list[str] = []
    if types_of(old) != types_of(new):
        problems.append(f"{path}: type {sorted(types_of(old))} became {sorted(types_of(new))}")
    old_values, new_values = _values(old), _values(new)
    if old_values is not None and (new_values is None or not old_values <= new_values):
        lost = sorted(map(str, old_values - (new_values or set()))) if new_values is not None else ["(any value)"]
        problems.append(f"{path}: values {lost} are no longer listed")
    missing_required = set(old.get("required", ())) - set(new.get("required", ()))
    problems += [f"{path}.{name}: no longer required" for name in sorted(missing_required)]
    for name, old_field in (old.get("properties") or {}).items():
        new_field = (new.get("properties") or {}).get(name)
        if new_field is None:
            problems.append(f"{path}.{name}: removed")
        else:
            problems += breaking_changes(old_field, new_field, f"{path}.{name}")
    return problems
