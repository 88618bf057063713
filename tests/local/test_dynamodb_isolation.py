"""The local stack's DynamoDB isolation (i2v_local.stack.dynamodb_isolation), against moto itself.

The race the chaos soak met about once in eight runs on a loaded machine: the submit handler's claim of a
duplicate S3 notification is cancelled (the job exists) while Complete, on the interpreter's thread, records
another job `succeeded`. moto's rollback put the whole table back and the job read `submitted` for good.
Here the other thread's call is placed exactly inside the transaction, after its first Put is applied and
before its rollback, so the outcome does not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend, Item

from i2v_local.stack.dynamodb_isolation import writes_isolated

TABLE = "jobs"
REGION = "us-east-1"
# Long enough for an unblocked call to finish; an isolated one waits for the transaction instead.
INSIDE_WINDOW_SECONDS = 1.0
# With the isolation, and moto as it is (the canary: if moto stops leaking or undoing, it fails and the
# isolation can go).
ISOLATION = pytest.mark.parametrize(
    ("isolation", "isolated"),
    [(writes_isolated, True), (nullcontext, False)],
    ids=["local-stack-isolation", "moto-as-is-canary"],
)


def _client() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def _status(job: str) -> str:
    item = _client().get_item(TableName=TABLE, Key=_key(job), ConsistentRead=True)["Item"]
    return str(item["status"]["S"])


def _key(job: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job}"}, "sk": {"S": "JOB"}}


def _jobs_table() -> None:
    db = _client()
    db.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for job in ("done", "duplicate"):
        db.put_item(TableName=TABLE, Item={**_key(job), "status": {"S": "submitted"}})


def _put(job: str, *, unless_it_exists: bool) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": {**_key(job), "status": {"S": "received"}}}
    if unless_it_exists:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def _cancelled_claims_with_a_call_inside(monkeypatch: pytest.MonkeyPatch, call: Callable[[], None]) -> None:
    """Claims `fresh` (applied) and `duplicate` (cancelled: it exists); once `fresh` is in the table, another
    thread runs `call`."""
    claimer = threading.get_ident()
    put_item = DynamoDBBackend.put_item  # the isolated one when isolation is on
    other = threading.Thread(target=call)

    def put_then_call(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        applied = put_item(self, *args, **kwargs)
        if threading.get_ident() == claimer and other.ident is None:
            other.start()  # moto has copied the table and applied the first Put
            other.join(INSIDE_WINDOW_SECONDS)
        return applied

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_then_call)
    with pytest.raises(ClientError) as cancelled:
        _client().transact_write_items(
            TransactItems=[_put("fresh", unless_it_exists=False), _put("duplicate", unless_it_exists=True)]
        )
    monkeypatch.undo()
    other.join()
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"


@ISOLATION
def test_a_cancelled_transaction_keeps_another_threads_write(
    monkeypatch: pytest.MonkeyPatch, isolation: Callable[[], AbstractContextManager[Any]], isolated: bool
) -> None:
    """With the isolation the write survives; without it moto 5.2.5 undoes it."""
    with mock_aws(), isolation():
        _jobs_table()

        def complete() -> None:
            _client().update_item(
                TableName=TABLE,
                Key=_key("done"),
                UpdateExpression="SET #s = :done",
                ConditionExpression="#s = :submitted",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":done": {"S": "succeeded"}, ":submitted": {"S": "submitted"}},
            )

        _cancelled_claims_with_a_call_inside(monkeypatch, complete)

        assert (_status("done") == "succeeded") is isolated
        assert _status("duplicate") == "submitted"  # the cancelled claim changed nothing


@ISOLATION
def test_a_query_never_sees_a_transactions_uncommitted_write(
    monkeypatch: pytest.MonkeyPatch, isolation: Callable[[], AbstractContextManager[Any]], isolated: bool
) -> None:
    """With the isolation a Query waits for the rollback; without it moto shows the claim it then undoes."""
    with mock_aws(), isolation():
        _jobs_table()
        seen: list[int] = []

        def look_for_fresh() -> None:
            found = _client().query(
                TableName=TABLE,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": _key("fresh")["pk"]},
            )
            seen.append(found["Count"])

        _cancelled_claims_with_a_call_inside(monkeypatch, look_for_fresh)

        assert seen == [0 if isolated else 1]
        assert (
            _client().query(
                TableName=TABLE,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": _key("fresh")["pk"]},
            )["Count"]
            == 0
        )  # rolled back


@ISOLATION
def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was(
    isolation: Callable[[], AbstractContextManager[Any]], isolated: bool
) -> None:
    """A new item, an updated one and a deleted one, then a failing condition: all three as before."""
    with mock_aws(), isolation():
        _jobs_table()
        update = {
            "TableName": TABLE,
            "Key": _key("done"),
            "UpdateExpression": "SET #s = :x",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":x": {"S": "succeeded"}},
        }
        with pytest.raises(ClientError, match="TransactionCanceled"):
            _client().transact_write_items(
                TransactItems=[
                    _put("fresh", unless_it_exists=False),
                    {"Update": update},
                    {"Delete": {"TableName": TABLE, "Key": _key("duplicate")}},
                    {"ConditionCheck": {"TableName": TABLE, "Key": _key("absent"), "ConditionExpression": "attribute_exists(pk)"}},
                ]
            )
        assert "Item" not in _client().get_item(TableName=TABLE, Key=_key("fresh"))
        assert (_status("done"), _status("duplicate")) == ("submitted", "submitted")
        _client().transact_write_items(TransactItems=[_put("fresh", unless_it_exists=True), {"Update": update}])
        assert (_status("fresh"), _status("done")) == ("received", "succeeded")  # a committed one stays


@ISOLATION
def test_a_transaction_copies_the_items_it_names_not_the_table(
    monkeypatch: pytest.MonkeyPatch, isolation: Callable[[], AbstractContextManager[Any]], isolated: bool
) -> None:
    """moto deep-copies every table a transaction touches; at 1,000 jobs that was most of the manifest soak."""
    with mock_aws(), isolation():
        _jobs_table()
        for number in range(300):
            _client().put_item(TableName=TABLE, Item={**_key(f"other-{number}"), "status": {"S": "submitted"}})
        copied = []
        item_copy = Item.__deepcopy__
        monkeypatch.setattr(Item, "__deepcopy__", lambda self, memo: copied.append(self) or item_copy(self, memo))
        _client().transact_write_items(TransactItems=[_put("fresh", unless_it_exists=True)])
        assert len(copied) == (0 if isolated else 302)  # "fresh" is not there yet: nothing to copy
