"""The registry of event kinds (`i2v_events.v1.kinds`): one module per kind holds its subscriber contract, and
everything else (enum, maps, unions, samples, schema files, the docs' table) follows from the registry."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import get_args

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from i2v_events.schemas import TABLE_END, TABLE_START, kinds_table, with_kinds_table
from i2v_events.v1 import kinds
from i2v_events.v1.kinds import KINDS, AnyEvent, AnyWebhook, DetailType

REPO = Path(__file__).parents[2]


def _source(module: str) -> ast.Module:
    path = sys.modules[module].__file__
    assert path is not None
    return ast.parse(Path(path).read_text())


def _annotations(tree: ast.Module, class_name: str) -> tuple[list[str], dict[str, str]]:
    (declared,) = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == class_name]
    fields = {
        stmt.target.id: ast.unparse(stmt.annotation)
        for stmt in declared.body
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
    }
    return [ast.unparse(base) for base in declared.bases], fields


@pytest.mark.parametrize("name", list(KINDS))
def test_the_whole_event_built_at_run_time_is_the_one_declared_for_type_checkers(name: str) -> None:
    """A kind module declares its whole event for type checkers and builds it when first read (Powertools'
    parser models load only then): the two must say the same."""
    kind = KINDS[name]
    bases, fields = _annotations(_source(kind.module), kind.event_name)
    assert bases == ["EventBridgeModel"]
    assert fields == {"detail_type": f"Literal[{kind.detail_type!r}]", "detail": kind.detail.__name__}
    model = kind.event()
    assert issubclass(model, EventBridgeModel)
    assert (model.__name__, model.__module__) == (kind.event_name, kind.module)
    assert get_args(model.model_fields["detail_type"].annotation) == (kind.detail_type,)
    assert model.model_fields["detail_type"].alias == "detail-type"
    assert model.model_fields["detail"].annotation is kind.detail
    assert getattr(sys.modules[kind.module], kind.event_name) is model  # built once


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_module_is_named_as_its_kind(name: str) -> None:
    kind = KINDS[name]
    assert kind.module == f"i2v_events.v1.kinds.{name}"
    _, fields = _annotations(_source(kind.module), kind.webhook.__name__)
    assert fields == {"type": f"Literal[{kind.webhook_type!r}]", "data": kind.detail.__name__}
    assert kind.sample["detail-type"] == kind.detail_type


def test_the_unions_and_the_enum_list_every_kind_in_the_registry_order() -> None:
    assert [str(member) for member in DetailType] == [kind.detail_type for kind in KINDS.values()]
    assert get_args(AnyWebhook) == tuple(kind.webhook for kind in KINDS.values())
    assert get_args(AnyEvent) == tuple(kind.event() for kind in KINDS.values())
    # The union type checkers read is written out in the registry: it names the same models.
    (static,) = [
        node
        for node in ast.walk(_source(kinds.__name__))
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["AnyEvent"]
    ]
    assert ast.unparse(static.value).split(" | ") == [kind.event_name for kind in KINDS.values()]


def test_the_docs_table_is_the_registry_s(tmp_path: Path) -> None:
    table = kinds_table()
    assert table.count("\n") == len(KINDS) + 2
    assert all(f"| `{kind.detail_type}` | {kind.when} |" in table for kind in KINDS.values())
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{TABLE_START}\n| old |\n{TABLE_END}\nrest\n")
    assert with_kinds_table(doc) == f"intro\n{TABLE_START}\n{table}{TABLE_END}\nrest\n"
    doc.write_text("no markers\n")
    with pytest.raises(ValueError, match="markers"):
        with_kinds_table(doc)
