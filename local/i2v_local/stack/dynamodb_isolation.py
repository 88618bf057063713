"""DynamoDB writes isolated from each other and from reads, as in DynamoDB, while the local stack runs.

moto's in-process DynamoDB takes no lock. Its TransactWriteItems copies each table it touches, applies the
operations, and on a cancellation puts the copied tables back whole: a write another thread made in between
(Complete recording `succeeded` on the Step Functions interpreter's thread while the submit handler's claim
of a duplicate S3 notification is cancelled) is silently undone. DynamoDB isolates a transaction from every
other write and applies each single-item write atomically (developer guide: "Isolation levels for DynamoDB
transactions"), so the local stack serializes moto's item reads, queries and writes behind one lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

from moto.dynamodb.models import DynamoDBBackend

# The backend methods every item API goes through (BatchWriteItem calls put_item / delete_item per item,
# BatchGetItem get_item). Query and Scan too: a transaction changes the table in place until it commits or
# rolls back, and DynamoDB's reads never see a transaction's uncommitted writes.
ISOLATED = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query", "scan")
# Re-entrant: transact_write_items calls get_item, put_item, update_item and delete_item itself.
_LOCK = threading.RLock()


def _isolated(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, *args, **kwargs)

    return call


def writes_isolated() -> AbstractContextManager[Any]:
    isolated: dict[str, Any] = {name: _isolated(getattr(DynamoDBBackend, name)) for name in ISOLATED}
    patcher: AbstractContextManager[Any] = mock.patch.multiple(DynamoDBBackend, **isolated)
    return patcher
