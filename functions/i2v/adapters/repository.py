"""The one jobs repository: DynamoDB items, conditional writes, and the queries the CLI and policy need."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v.domain.budgets import SpendReservation
from i2v.domain.jobs import JobStatus, TransientError, sources_of
from i2v.domain.polling import CLASS_HISTORY_LIMIT, MODEL_HISTORY_LIMIT, history_key
from i2v.domain.record import JobRecord, iso, utc_now

logger = logging.getLogger(__name__)

BY_SOURCE_INDEX = "by-source"
BY_STATUS_INDEX = "by-status"
BY_TIME_CLASS_INDEX = "by-time-class"
JOB_SK = "JOB"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    plain = json.loads(json.dumps(values), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in plain.items() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


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


def job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": JOB_SK}}


@dataclass(frozen=True)
class ClaimResult:
    """created: ours to submit; duplicate: the job already exists; superseded: a newer version won."""

    outcome: str
    job: JobRecord | None


class TransitionRejectedError(Exception):
    def __init__(self, job_id: str, target: JobStatus, current: JobStatus | None) -> None:
        super().__init__(f"job {job_id}: {current} -> {target} is not allowed")
        self.current = current


class JobRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self) -> Any:
        return client("dynamodb")

    def claim(self, job: JobRecord, padded_sequencer: str) -> ClaimResult:
        """Create the job only if it is new and no newer version of the same object has been seen."""
        item = _to_item(
            {
                "pk": f"JOB#{job.job_id}",
                "sk": JOB_SK,
                "source_id": job.source_id,
                **job.model_dump(mode="json"),
            }
        )
        pointer_key = {"pk": {"S": f"SRC#{job.source_id}"}, "sk": {"S": "LATEST"}}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": pointer_key,
                            "UpdateExpression": "SET sequencer = :seq, job_id = :job",
                            "ConditionExpression": "attribute_not_exists(pk) OR sequencer <= :seq",
                            "ExpressionAttributeValues": {
                                ":seq": {"S": padded_sequencer},
                                ":job": {"S": job.job_id},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = {str(r.get("Code")) for r in error.response.get("CancellationReasons", [])} - {"None"}
            if reasons - {"ConditionalCheckFailed"}:
                # TransactionConflict (e.g. two versions racing on the LATEST pointer), throttling, ...: nothing
                # was decided, so the message must come back rather than be dropped as a duplicate.
                raise TransientError(f"claim of job {job.job_id} cancelled ({', '.join(sorted(reasons))})") from None
            existing = self.get(job.job_id)
            if existing is not None:
                return ClaimResult("duplicate", existing)
            return ClaimResult("superseded", None)
        return ClaimResult("created", job)

    def get(self, job_id: str) -> JobRecord | None:
        response = self._db.get_item(TableName=self.table_name, Key=job_key(job_id), ConsistentRead=True)
        item = response.get("Item")
        return JobRecord.model_validate(_from_item(item)) if item else None

    def transition(
        self,
        job_id: str,
        target: JobStatus,
        fields: dict[str, Any] | None = None,
        remove: Iterable[str] = (),
        increment_attempt: bool = False,
    ) -> JobRecord:
        """Move a job to `target` only from a status that may lead there; stamp the time of first arrival."""
        now = iso(utc_now())
        names = {"#status": "status", "#ts": str(target), "#updated": "updated_at"}
        values: dict[str, Any] = {":target": str(target), ":now": now}
        sets = [
            "#status = :target",
            "#updated = :now",
            "timestamps.#ts = if_not_exists(timestamps.#ts, :now)",
        ]
        for index, (name, value) in enumerate((fields or {}).items()):
            names[f"#f{index}"] = name
            values[f":f{index}"] = value
            sets.append(f"#f{index} = :f{index}")
        if increment_attempt:
            sets.append("attempt = attempt + :one")
            values[":one"] = 1
        allowed = sorted(str(status) for status in sources_of(target))
        for index, status in enumerate(allowed):
            values[f":from{index}"] = status
        condition = f"#status IN ({', '.join(f':from{i}' for i in range(len(allowed)))})"
        expression = "SET " + ", ".join(sets)
        removals = list(remove)
        if removals:
            for index, name in enumerate(removals):
                names[f"#r{index}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removals)))
        try:
            response = self._db.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            current = self.get(job_id)
            raise TransitionRejectedError(job_id, target, current.status if current else None) from None
        return JobRecord.model_validate(_from_item(response["Attributes"]))

    def annotate(self, job_id: str, fields: dict[str, Any]) -> None:
        """Record facts that do not change the status (e.g. which execution runs the job)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": value for i, value in enumerate(fields.values())}
        self._db.update_item(
            TableName=self.table_name,
            Key=job_key(job_id),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_item(values),
        )

    def consume_budget(self, day: str, cap: int, expires_at: int) -> bool:
        """Atomically take one submission from the day's allowance; False when it is used up."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"BUDGET#{day}"}, "sk": {"S": "COUNT"}},
                UpdateExpression="ADD submissions :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(submissions) OR submissions < :cap",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":cap": {"N": str(cap)},
                    ":exp": {"N": str(expires_at)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_budget(self, day: str) -> None:
        """Give back a submission that GMI provably did not accept. Nothing to give back (another day's counter,
        already at zero) is not an error: raising here would leave the job it was called for `submitting`."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"BUDGET#{day}"}, "sk": {"S": "COUNT"}},
                UpdateExpression="ADD submissions :minus",
                ConditionExpression="submissions > :zero",
                ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    # ---- daily dollar budgets (i2v.domain.budgets): one item a day, a counter per budget ------------------------
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
                    ExpressionAttributeValues=_to_item(values),
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
            "ExpressionAttributeValues": _to_item({":minus": -reservation.usd}),
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
            "ExpressionAttributeValues": _to_item({":day": reservation.day, ":usd": reservation.usd}),
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

    def _query(self, **kwargs: Any) -> Iterator[JobRecord]:
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self.table_name, **kwargs):
            for item in page.get("Items", []):
                yield JobRecord.model_validate(_from_item(item))

    def by_status(self, status: JobStatus, since: str | None = None, limit: int = 100) -> list[JobRecord]:
        condition = "#status = :status" + (" AND updated_at >= :since" if since else "")
        values: dict[str, Any] = {":status": {"S": str(status)}}
        if since:
            values[":since"] = {"S": since}
        found = self._query(
            IndexName=BY_STATUS_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            # PageSize (Limit) too: without it the first page reads up to 1 MB of items to keep `limit` of them.
            PaginationConfig={"MaxItems": limit, "PageSize": limit},
        )
        return list(found)[:limit]

    def by_source(self, bucket: str, key: str) -> list[JobRecord]:
        return list(
            self._query(
                IndexName=BY_SOURCE_INDEX,
                KeyConditionExpression="source_id = :source",
                ExpressionAttributeValues={":source": {"S": f"{bucket}/{key}"}},
                ScanIndexForward=False,
            )
        )

    def recent_generation_seconds(self, model: str, time_class: Mapping[str, str] | None) -> list[float]:
        """Generation times of recent successes, newest first: what the polling policy learns.

        With a time class: the latest CLASS_HISTORY_LIMIT of that class, from the sparse by-time-class index
        (only successes with a generation time carry `history_key`; it projects just that time, so the query
        reads ~1 unit). Without: the latest MODEL_HISTORY_LIMIT successes filtered to the model (cold classes).
        """
        if time_class is None:
            return [
                job.generation_seconds
                for job in self.by_status(JobStatus.SUCCEEDED, limit=MODEL_HISTORY_LIMIT)
                if job.generation_seconds is not None and job.model == model
            ]
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName=BY_TIME_CLASS_INDEX,
            KeyConditionExpression="history_key = :key",
            ExpressionAttributeValues={":key": {"S": history_key(model, time_class)}},
            ProjectionExpression="generation_seconds",
            ScanIndexForward=False,
            PaginationConfig={"MaxItems": CLASS_HISTORY_LIMIT, "PageSize": CLASS_HISTORY_LIMIT},
        )
        seconds = [
            float(item["generation_seconds"]["N"])
            for page in pages
            for item in page.get("Items", [])
            if "N" in item.get("generation_seconds", {})
        ]
        return seconds[:CLASS_HISTORY_LIMIT]
