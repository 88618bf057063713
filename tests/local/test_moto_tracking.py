"""The local stack's bound on moto's model tracking (i2v_local.stack.moto_tracking), against moto itself.

moto appends every model instance it makes to its class's `instances_tracked` and forgets them only on reset.
TransactWriteItems deep-copies each table it touches as its rollback backup, so every transaction kept a
whole copy of the jobs table: memory grew with jobs x transactions, and the 1,000-line manifest soak was
OOM-killed at 21 GB. Counted here by the Table and Item instances a transaction leaves alive, not by timing.
"""

from __future__ import annotations

import gc
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.sqs.models import Message

from i2v_local.stack.moto_tracking import dynamodb_untracked

TABLE, REGION, STORED, TRANSACTIONS = "jobs", "us-east-1", 50, 20


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for found in gc.get_objects() if type(found) is kind)


def _table_with_items(db: Any) -> None:
    db.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(STORED):
        db.put_item(TableName=TABLE, Item={"pk": {"S": f"JOB#{n}"}, "prompt": {"S": "x" * 200}})


def _transactions(db: Any) -> None:
    """Each copies the table (moto's rollback backup); half of them are cancelled (the claim exists)."""
    for n in range(TRANSACTIONS):
        put = {
            "TableName": TABLE,
            "Item": {"pk": {"S": f"CLAIM#{n // 2}"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        with suppress(db.exceptions.TransactionCanceledException):
            db.transact_write_items(TransactItems=[{"Put": put}])


@pytest.mark.parametrize(
    ("bound", "kept"), [(dynamodb_untracked, False), (nullcontext, True)], ids=["local-stack", "moto-as-is-canary"]
)
def test_a_transaction_leaves_no_copy_of_the_table_alive(bound: type[AbstractContextManager[Any]], kept: bool) -> None:
    with mock_aws(), bound():
        db = boto3.client("dynamodb", region_name=REGION)
        _table_with_items(db)
        tables, items = _alive(Table), _alive(Item)
        _transactions(db)
        new_tables, new_items = _alive(Table) - tables, _alive(Item) - items
        # The claims themselves: TRANSACTIONS / 2 items are stored; nothing else may stay.
        if kept:  # moto as it is: a table copy (and a copy of each item) per transaction
            assert new_tables >= TRANSACTIONS
            assert new_items >= TRANSACTIONS * STORED
        else:
            assert (new_tables, new_items) == (0, TRANSACTIONS // 2)
        assert db.get_item(TableName=TABLE, Key={"pk": {"S": "CLAIM#3"}})["Item"]["pk"]["S"] == "CLAIM#3"
        assert db.scan(TableName=TABLE, Select="COUNT")["Count"] == STORED + TRANSACTIONS // 2


def test_other_services_are_still_tracked_and_tracking_comes_back() -> None:
    """Only DynamoDB's models are left untracked (S3's reset closes the files of every FakeKey it tracked)."""
    with mock_aws():
        with dynamodb_untracked():
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(QueueName="q")["QueueUrl"]
            before = len(Message.instances_tracked)  # type: ignore[attr-defined]
            sqs.send_message(QueueUrl=url, MessageBody="hello")
            assert len(Message.instances_tracked) == before + 1  # type: ignore[attr-defined]
        db = boto3.client("dynamodb", region_name=REGION)
        _table_with_items(db)
        assert len(Table.instances_tracked) >= 1  # type: ignore[attr-defined]
