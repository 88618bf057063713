"""The one jobs repository: DynamoDB items and conditional writes here, its queries in job_queries.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v.adapters.dynamo_items import JOB_SK, from_item, job_key, to_item
from i2v.adapters.job_queries import JobQueries
from i2v.adapters.spend_ledger import SpendLedger
from i2v.domain.claims import FINISHED_LOOK_LEASE, ClaimResult, TransitionRejectedError, WatchLookClaim
from i2v.domain.jobs import JobStatus, TransientError, sources_of
from i2v.domain.record import JobRecord, iso, utc_now

# Re-exported: where callers have always found them.
__all__ = ["ClaimResult", "JobRepository", "TransitionRejectedError", "WatchLookClaim", "job_key"]


class JobRepository(JobQueries, SpendLedger):
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self) -> Any:
        return client("dynamodb")

    def claim(self, job: JobRecord, padded_sequencer: str) -> ClaimResult:
        """Create the job only if it is new and no newer version of the same object has been seen."""
        item = to_item(
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
        return JobRecord.model_validate(from_item(item)) if item else None

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
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            current = self.get(job_id)
            raise TransitionRejectedError(job_id, target, current.status if current else None) from None
        return JobRecord.model_validate(from_item(response["Attributes"]))

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
            ExpressionAttributeValues=to_item(values),
        )

    def claim_look(self, job_id: str, look: WatchLookClaim) -> bool:
        """Take look `look.look` of the chain `look.chain` on the job item (one conditional UpdateItem). False:
        a stale copy (another copy holds this look, or the chain is past it, or belongs to another task)."""
        values: dict[str, Any] = {
            ":chain": look.chain,
            ":look": look.look,
            ":message": look.message_id,
            ":now": look.now,
            ":lease": look.lease_until,
        }
        # The same SQS message again once the invocation that claimed it is over (it may have died before its
        # send): it may redo its look. A copy within the lease may not.
        redo = "(watch_look = :look AND watch_message = :message AND watch_lease_until < :now)"
        if look.look == 0:
            # A new Watch state (a new task token) starts a new chain, whatever the item held before.
            chain = f"(attribute_not_exists(watch_chain) OR watch_chain <> :chain OR {redo})"
        else:
            values[":previous"] = look.look - 1
            chain = f"watch_chain = :chain AND (watch_look = :previous OR {redo})"
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression=(
                    "SET watch_chain = :chain, watch_look = :look, watch_message = :message, watch_lease_until = :lease"
                ),
                ConditionExpression=f"attribute_exists(pk) AND {chain}",
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_look(self, job_id: str, look: WatchLookClaim) -> None:
        """End the lease of a look whose invocation failed after claiming it: the same SQS message, delivered
        again, may redo it at once (another copy still may not). Nothing to release is not an error."""
        self._set_lease(job_id, look, 0)

    def finish_look(self, job_id: str, look: WatchLookClaim) -> None:
        """Its successor is sent: the lease never ends, so its own message back (a lost delete, a timed-out
        batch) never redoes it. Not the holder any more (the successor claimed): nothing to do."""
        self._set_lease(job_id, look, FINISHED_LOOK_LEASE)

    def _set_lease(self, job_id: str, look: WatchLookClaim, lease_until: float) -> None:
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression="SET watch_lease_until = :lease",
                ConditionExpression="watch_chain = :chain AND watch_look = :look AND watch_message = :message",
                ExpressionAttributeValues=to_item(
                    {":lease": lease_until, ":chain": look.chain, ":look": look.look, ":message": look.message_id}
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

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
