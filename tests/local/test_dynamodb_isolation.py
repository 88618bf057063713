"""The local stack's DynamoDB isolation (i2v_local.stack.dynamodb_isolation), against moto itself.

The race the chaos soak met about once in eight runs on a loaded machine: the submit handler's claim of a
duplicate S3 notification is cancelled (the job exists) while Complete, on the interpreter's thread, records
another job `succeeded`. moto's rollback put the whole table back and the job read `submitted` for good.
Here the other thread's write is placed exactly inside the transaction, between moto's copy of the table and
its rollback, so the outcome does not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from i2v_local.stack.dynamodb_isolation import writes_isolated

TABLE = "jobs"
REGION = "us-east-1"
# Long enough for an unblocked write to finish; an isolated one waits for the transaction instead.
INSIDE_WINDOW_SECONDS = 1.0


@contextmanager
def _moto_as_is() -> Iterator[None]:
    yield


def _client() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def _status(job: str) -> str:
    item = _client().get_item(TableName=TABLE, Key=_key(job), ConsistentRead=True)["Item"]
    return str(item["status"]["S"])


def _key(job: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job}"}, "sk": {"S": "JOB"}}


def _cancelled_claim_with_a_write_inside(monkeypatch: pytest.MonkeyPatch, write: Callable[[], None]) -> None:
    """A duplicate claim (Put if not exists: cancelled) during which another thread runs `write`."""
    claimer = threading.get_ident()
    looked_up = DynamoDBBackend.get_item  # the isolated one when isolation is on
    other = threading.Thread(target=write)

    def get_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == claimer and other.ident is None:
            other.start()  # moto has copied the table by now: its first item lookup inside the transaction
            other.join(INSIDE_WINDOW_SECONDS)
        return looked_up(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "get_item", get_item)
    with pytest.raises(ClientError) as cancelled:
        _client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {**_key("duplicate"), "status": {"S": "received"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    monkeypatch.undo()
    other.join()
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"


@pytest.mark.parametrize(
    ("isolation", "kept"),
    [(writes_isolated, True), (_moto_as_is, False)],
    ids=["local-stack-isolation", "moto-as-is-canary"],
)
def test_a_cancelled_transaction_keeps_another_threads_write(
    monkeypatch: pytest.MonkeyPatch, isolation: Callable[[], AbstractContextManager[None]], kept: bool
) -> None:
    """With the isolation the write survives; without it moto 5.2.5 undoes it (the canary: if moto fixes its
    rollback, this case fails and the isolation can go)."""
    with mock_aws(), isolation():
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
        for job, status in (("done", "submitted"), ("duplicate", "submitted")):
            db.put_item(TableName=TABLE, Item={**_key(job), "status": {"S": status}})

        def complete() -> None:
            _client().update_item(
                TableName=TABLE,
                Key=_key("done"),
                UpdateExpression="SET #s = :done",
                ConditionExpression="#s = :submitted",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":done": {"S": "succeeded"}, ":submitted": {"S": "submitted"}},
            )

        _cancelled_claim_with_a_write_inside(monkeypatch, complete)

        assert (_status("done") == "succeeded") is kept
        assert _status("duplicate") == "submitted"  # the cancelled claim changed nothing
