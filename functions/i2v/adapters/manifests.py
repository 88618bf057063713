"""Manifest summary records in the jobs table: pk `MANIFEST#{manifest_id}`, sk `SUMMARY` (i2v.domain.manifest)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v.adapters.dynamo_items import from_item as _from_item
from i2v.adapters.dynamo_items import to_item as _to_item
from i2v.domain.jobs import TransientError
from i2v.domain.manifest import BadLine, ManifestRef, ManifestSummary
from i2v.domain.record import iso, utc_now

SUMMARY_SK = "SUMMARY"


def summary_key(manifest_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": SUMMARY_SK}}


class ManifestSummaries:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self) -> Any:
        return client("dynamodb")

    def get(self, manifest_id: str) -> ManifestSummary | None:
        response = self._db.get_item(TableName=self.table_name, Key=summary_key(manifest_id), ConsistentRead=True)
        item = response.get("Item")
        # Only `ended` yet (a line ended before the first chunk was recorded): not a summary yet.
        return ManifestSummary.model_validate(_from_item(item)) if item and "manifest" in item else None

    def record_chunk(
        self,
        manifest: ManifestRef,
        offset: int,
        next_offset: int,
        next_line: int,
        lines: int,
        bad: list[BadLine],
        bad_total: int,
        done: bool,
    ) -> bool:
        """One chunk split: only if it is the next one (a redelivered chunk finds next_offset moved on)."""
        now = iso(utc_now())
        names = {f"#b{i}": str(line.line) for i, line in enumerate(bad)}
        values = {
            ":offset": offset,
            ":next": next_offset,
            ":line": next_line,
            ":lines": lines,
            ":bad_total": bad_total,
            ":done": done,
            ":manifest": manifest.model_dump(mode="json"),
            ":id": manifest.manifest_id,
            ":now": now,
            ":empty": {},
        }
        first = (
            "SET manifest_id = :id, manifest = :manifest, next_offset = :next, chunk_offset = :offset, "
            "next_line = :line, "
            "split_done = :done, updated_at = :now, created_at = if_not_exists(created_at, :now), "
            "bad_lines = if_not_exists(bad_lines, :empty) ADD #lines :lines, bad_total :bad_total"
        )
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=summary_key(manifest.manifest_id),
                UpdateExpression=first,
                # A line may end before the first chunk is recorded (its `ended` count then comes first).
                ConditionExpression="attribute_not_exists(next_offset) OR next_offset = :offset",
                ExpressionAttributeNames={"#lines": "lines"},
                ExpressionAttributeValues=_to_item(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        if bad:  # the map exists now: one SET per kept bad line, keyed by line number (idempotent)
            self._db.update_item(
                TableName=self.table_name,
                Key=summary_key(manifest.manifest_id),
                UpdateExpression="SET " + ", ".join(f"bad_lines.#b{i} = :b{i}" for i in range(len(bad))),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item({f":b{i}": line.reason for i, line in enumerate(bad)}),
            )
        return True

    def add_bad_line(self, manifest_id: str, bad: BadLine) -> None:
        """A line found bad when its job was to be made (its image missing): counted once per line number."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=summary_key(manifest_id),
                UpdateExpression="SET bad_lines.#n = :reason ADD bad_total :one",
                # bad_lines exists once the first chunk is recorded (before, a SET into it would be invalid).
                ConditionExpression="attribute_exists(bad_lines) AND attribute_not_exists(bad_lines.#n)",
                ExpressionAttributeNames={"#n": str(bad.line)},
                ExpressionAttributeValues=_to_item({":reason": bad.reason, ":one": 1}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            if self.get(manifest_id) is None:  # its chunk is not recorded yet: the line message comes back
                raise TransientError(f"manifest {manifest_id} has no summary yet") from None

    def end_line(self, manifest_id: str, line: int, outcome: str) -> bool:
        """Count one line's end once: a marker item per line and the summary's `ended`, in one transaction."""
        marker = {"pk": {"S": f"MANIFEST#{manifest_id}"}, "sk": {"S": f"LINE#{line:07d}"}}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": marker,
                            "UpdateExpression": "SET outcome = :outcome",
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ExpressionAttributeValues": {":outcome": {"S": outcome}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": summary_key(manifest_id),
                            "UpdateExpression": "ADD ended :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = {str(r.get("Code")) for r in error.response.get("CancellationReasons", [])} - {"None"}
            if reasons - {"ConditionalCheckFailed"}:
                raise TransientError(
                    f"end of manifest line {line} not recorded ({', '.join(sorted(reasons))})"
                ) from None
            return False
        return True

    def mark_completed(self, manifest_id: str) -> bool:
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=summary_key(manifest_id),
                UpdateExpression="SET completed_at = :now",
                ConditionExpression="attribute_exists(manifest) AND attribute_not_exists(completed_at)",
                ExpressionAttributeValues=_to_item({":now": iso(utc_now())}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_announced(self, manifest_id: str) -> None:
        self._db.update_item(
            TableName=self.table_name,
            Key=summary_key(manifest_id),
            UpdateExpression="SET announced_at = :now",
            ExpressionAttributeValues=_to_item({":now": iso(utc_now())}),
        )
