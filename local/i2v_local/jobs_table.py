"""The jobs table's shape (keys and indexes, as infrastructure/i2v_infra/constructs/records.py declares them),
for code that makes the table in moto without synthesizing the stack: repository tests and the pacing benchmark.
tests/infrastructure/test_infra_workflow.py pins the template to the same indexes."""

from __future__ import annotations

from typing import Any


def _index(name: str, hash_key: str, range_key: str, projection: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}],
        "Projection": projection or {"ProjectionType": "ALL"},
    }


def create_jobs_table(dynamodb: Any, table_name: str) -> None:
    """Create the jobs table (on-demand) with `dynamodb`, a boto3 DynamoDB client."""
    dynamodb.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", "source_id", "created_at", "status", "updated_at", "history_key")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            _index("by-source", "source_id", "created_at", {"ProjectionType": "KEYS_ONLY"}),
            _index(
                "by-status",
                "status",
                "updated_at",
                {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["model", "generation_seconds"]},
            ),
            _index(
                "by-time-class",
                "history_key",
                "updated_at",
                {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["generation_seconds"]},
            ),
        ],
    )
