"""DynamoDB writes isolated from each other and from reads, as in DynamoDB, while the local stack runs.

moto's in-process DynamoDB takes no lock. Its TransactWriteItems copies each table it touches, applies the
operations, and on a cancellation puts the copied tables back whole: a write another thread made in between
(Complete recording `succeeded` on the Step Functions interpreter's thread while the submit handler's claim
of a duplicate S3 notification is cancelled) is silently undone. DynamoDB isolates a transaction from every
other write and applies each single-item write atomically (developer guide: "Isolation levels for DynamoDB
transactions"), so the local stack serializes moto's item reads, queries and writes behind one lock.

The whole-table copy also made every transaction cost as much as the table is large: the 1,000-line manifest
soak spent most of its time deep-copying the jobs table. Under the lock a transaction can only change the items
it names, so the local stack backs up those items, and puts them back on a cancellation, instead.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# The backend methods every item API goes through (BatchWriteItem calls put_item / delete_item per item,
# BatchGetItem get_item). Query and Scan too: a transaction changes the table in place until it commits or
# rolls back, and DynamoDB's reads never see a transaction's uncommitted writes.
ISOLATED = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query", "scan")
# Re-entrant: transact_write_items calls get_item, put_item, update_item and delete_item itself.
_LOCK = threading.RLock()
# moto's backend module deep-copies a Table only as TransactWriteItems' backup; items it still copies.
_TABLE_NOT_COPIED = SimpleNamespace(
    deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo)
)

Saved = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _isolated(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, *args, **kwargs)

    return call


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Saved]:
    """A copy of each item the transaction names (None where there is none yet), taken before it runs."""
    saved: dict[tuple[str, Any, Any], Saved] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            attributes = op.get("Item") if op_type == "Put" else op.get("Key")
            if table is None or not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
                continue  # moto refuses it before changing anything
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_attribute = table.range_key_attr
            if range_attribute is not None and range_attribute not in attributes:
                continue
            range_key = DynamoType(attributes[range_attribute]) if range_attribute else None
            current = table.get_item(hash_key, range_key)
            saved.setdefault((table.name, hash_key, range_key), (table, hash_key, range_key, copy.deepcopy(current)))
    return list(saved.values())


def _put_back(saved: list[Saved]) -> None:
    for table, hash_key, range_key, item in saved:
        if item is None:
            if range_key is None:
                table.items.pop(hash_key, None)
            else:
                table.items.get(hash_key, {}).pop(range_key, None)
        elif range_key is None:
            table.items[hash_key] = item  # type: ignore[assignment]  # moto's own put_item writes the same
        else:
            table.items[hash_key][range_key] = item


def _backing_up_touched_items(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        saved = _touched(self, transact_items)
        try:
            return original(self, transact_items)
        except BaseException:
            _put_back(saved)  # moto's own rollback put back the very same tables: a no-op
            raise

    return transact_write_items


@contextmanager
def writes_isolated() -> Iterator[None]:
    isolated: dict[str, Any] = {name: _isolated(getattr(DynamoDBBackend, name)) for name in ISOLATED}
    isolated["transact_write_items"] = _isolated(_backing_up_touched_items(DynamoDBBackend.transact_write_items))
    with (
        mock.patch.multiple(DynamoDBBackend, **isolated),
        mock.patch.object(dynamodb_models, "copy", _TABLE_NOT_COPIED),
    ):
        yield
