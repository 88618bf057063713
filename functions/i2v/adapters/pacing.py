"""The shared submission pace in the jobs table: one item holds when the next turn to POST is free."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v.domain.jobs import TransientError
from i2v.domain.pacing import Reservation, reserve

PACE_KEY = {"pk": {"S": "PACE#gmi-submit"}, "sk": {"S": "NEXT"}}
# Optimistic writes: another invocation taking a turn in between makes us read and try again.
RACE_ATTEMPTS = 8


class SubmitPace:
    """Every submit invocation takes its turn from the same item, so the rate holds across all of them.
    A read and a conditional write per turn: DynamoDB has no max() in update expressions."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self) -> Any:
        return client("dynamodb")

    def take_turn(self, now: float, rate_per_minute: int) -> Reservation:
        for _ in range(RACE_ATTEMPTS):
            item = self._db.get_item(TableName=self.table_name, Key=PACE_KEY, ConsistentRead=True).get("Item")
            seen = item["next_free_at"]["N"] if item else None
            turn = reserve(float(seen) if seen is not None else None, now, rate_per_minute)
            condition = "next_free_at = :seen" if seen is not None else "attribute_not_exists(pk)"
            values: dict[str, Any] = {":next": {"N": repr(turn.next_free_at)}}
            if seen is not None:
                values[":seen"] = {"N": seen}
            try:
                self._db.update_item(
                    TableName=self.table_name,
                    Key=PACE_KEY,
                    UpdateExpression="SET next_free_at = :next",
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    continue
                raise
            return turn
        raise TransientError("the submission pace is contended; trying again later")
