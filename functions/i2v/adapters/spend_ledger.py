"""The dollar budgets' day counters on the jobs table (docs/architecture.md, "Budgets in dollars"): reserve a
job's price atomically against every budget it counts in, read a day's totals, give a reservation back once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from i2v.adapters.dynamo_items import job_key, to_item
from i2v.domain.budgets import SpendReservation

logger = logging.getLogger(__name__)

_CONFLICT_ATTEMPTS = 5
SPEND_PREFIX = "usd#"


def _spend_key(day: str) -> dict[str, Any]:
    return {"pk": {"S": f"BUDGET#{day}"}, "sk": {"S": "USD"}}


def _spend_attribute(budget: str) -> str:
    return f"{SPEND_PREFIX}{budget}"


def _spend_totals(attributes: dict[str, Any]) -> dict[str, Decimal]:
    return {
        name.removeprefix(SPEND_PREFIX): Decimal(value["N"])
        for name, value in attributes.items()
        if name.startswith(SPEND_PREFIX) and "N" in value
    }


class SpendLedger:
    """Mixed into JobRepository (the one job repository), which provides `table_name` and `_db`."""

    table_name: str
    _db: Any

    def reserve_spend(
        self, day: str, usd: Decimal, limits: Mapping[str, Decimal], expires_at: int
    ) -> dict[str, Decimal] | None:
        """Atomically add the job's price to each budget's counter if every one is still below its limit: the day's
        totals afterwards, or None when a budget is used up (nothing added)."""
        names = {f"#b{i}": _spend_attribute(name) for i, name in enumerate(limits)}
        values: dict[str, Any] = {":usd": float(usd), ":exp": expires_at}
        conditions = []
        for i, limit in enumerate(limits.values()):
            values[f":l{i}"] = float(limit)
            conditions.append(f"(attribute_not_exists(#b{i}) OR #b{i} < :l{i})")
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                response = self._db.update_item(
                    TableName=self.table_name,
                    Key=_spend_key(day),
                    UpdateExpression="ADD " + ", ".join(f"{n} :usd" for n in names) + " SET expires_at = :exp",
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                    ReturnValues="UPDATED_NEW",
                )
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code == "ConditionalCheckFailedException":
                    return None
                if code != "TransactionConflictException" or attempt == _CONFLICT_ATTEMPTS - 1:
                    raise
                continue  # a give-back's transaction held the item; nothing was written: try again
            return _spend_totals(response["Attributes"])
        raise AssertionError("unreachable")  # pragma: no cover

    def spent(self, day: str) -> dict[str, Decimal]:
        """The day's totals per budget (ALL, or a prefix)."""
        item = self._db.get_item(TableName=self.table_name, Key=_spend_key(day), ConsistentRead=True).get("Item")
        return _spend_totals(item or {})

    def release_spend(self, reservation: SpendReservation, job_id: str | None = None) -> bool:
        """Give a reservation back. With `job_id`, only if that job still holds it, and its `budget_reserved` is
        removed in the same transaction: money goes back once however often it is asked (False: nothing given)."""
        names = {f"#b{i}": _spend_attribute(name) for i, name in enumerate(reservation.budgets)}
        budget_update = {
            "TableName": self.table_name,
            "Key": _spend_key(reservation.day),
            "UpdateExpression": "ADD " + ", ".join(f"{n} :minus" for n in names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item({":minus": -reservation.usd}),
        }
        if job_id is None:
            self._db.update_item(**budget_update)
            return True
        job_update = {
            "TableName": self.table_name,
            "Key": job_key(job_id),
            "UpdateExpression": "REMOVE budget_reserved",
            "ConditionExpression": "budget_reserved.#day = :day AND budget_reserved.usd = :usd",
            "ExpressionAttributeNames": {"#day": "day"},
            "ExpressionAttributeValues": to_item({":day": reservation.day, ":usd": reservation.usd}),
        }
        for _attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=[{"Update": job_update}, {"Update": budget_update}])
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = {str(r.get("Code")) for r in error.response.get("CancellationReasons", [])} - {"None"}
                if "ConditionalCheckFailed" in reasons:
                    return False  # given back already (or never held by this job)
                continue  # a conflict with a concurrent write (TransactionConflict): nothing was written
            return True
        # Kept rather than raised: raising would leave the job it was called for `submitting`. The day counts
        # the money (the safe side), and the job still says it holds it.
        logger.warning("budget of job %s not given back: conflicts with concurrent writes", job_id)
        return False
