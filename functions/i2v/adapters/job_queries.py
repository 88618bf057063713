"""The job repository's queries (by status, by source, the sweeper's stale jobs, the policy's history): the job
indexes project only what their own queries read, so whole records come from the table by key."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from i2v.adapters.dynamo_items import BY_SOURCE_INDEX, BY_STATUS_INDEX, BY_TIME_CLASS_INDEX, from_item
from i2v.domain.jobs import JobStatus
from i2v.domain.polling import CLASS_HISTORY_LIMIT, MODEL_HISTORY_LIMIT, history_key
from i2v.domain.record import JobRecord


class JobQueries:
    """Mixed into JobRepository (the one job repository), which provides `table_name` and `_db`."""

    table_name: str
    _db: Any

    def _query_keys(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self.table_name, **kwargs):
            for item in page.get("Items", []):
                yield {"pk": item["pk"], "sk": item["sk"]}

    def _records(self, keys: list[dict[str, Any]]) -> list[JobRecord]:
        """Whole job records, in the order of `keys`: the job indexes project only what their own queries read
        (docs/architecture.md), so the records come from the table (BatchGetItem, 100 keys a call)."""
        found: dict[str, JobRecord] = {}
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {self.table_name: {"Keys": keys[start : start + 100]}}
            while pending:
                response = self._db.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["pk"]["S"]] = JobRecord.model_validate(from_item(item))
                pending = response.get("UnprocessedKeys") or {}
        return [found[key["pk"]["S"]] for key in keys if key["pk"]["S"] in found]

    def by_status(self, status: JobStatus, since: str | None = None, limit: int = 100) -> list[JobRecord]:
        keys = list(self._by_status_items(status, since, limit))
        return self._records([{"pk": k["pk"], "sk": k["sk"]} for k in keys])

    def _by_status_items(
        self, status: JobStatus, since: str | None, limit: int, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        condition = "#status = :status" + (" AND updated_at >= :since" if since else "")
        values: dict[str, Any] = {":status": {"S": str(status)}}
        if since:
            values[":since"] = {"S": since}
        extra = {"ProjectionExpression": projection} if projection else {}
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName=BY_STATUS_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            # PageSize (Limit) too: without it the first page reads up to 1 MB of items to keep `limit` of them.
            PaginationConfig={"MaxItems": limit, "PageSize": limit},
            **extra,
        )
        count = 0
        for page in pages:
            for item in page.get("Items", []):
                if count == limit:
                    return
                count += 1
                yield item

    def stale(self, status: JobStatus, updated_before: str) -> Iterator[JobRecord]:
        """The jobs of `status` not updated since `updated_before`, oldest first, a page of 100 at a time as
        the caller reads on (the sweeper's question)."""
        keys = self._query_keys(
            IndexName=BY_STATUS_INDEX,
            KeyConditionExpression="#status = :status AND updated_at < :before",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": str(status)}, ":before": {"S": updated_before}},
            ScanIndexForward=True,
            PaginationConfig={"PageSize": 100},
        )
        page: list[dict[str, Any]] = []
        for key in keys:  # whole records a page at a time (the index projects only what its own queries read)
            page.append(key)
            if len(page) == 100:
                yield from self._records(page)
                page = []
        if page:
            yield from self._records(page)

    def by_source(self, bucket: str, key: str) -> list[JobRecord]:
        return self._records(
            list(
                self._query_keys(
                    IndexName=BY_SOURCE_INDEX,
                    KeyConditionExpression="source_id = :source",
                    ExpressionAttributeValues={":source": {"S": f"{bucket}/{key}"}},
                    ScanIndexForward=False,
                )
            )
        )

    def recent_generation_seconds(self, model: str, time_class: Mapping[str, str] | None) -> list[float]:
        """Generation times of recent successes, newest first: what the polling policy learns.

        With a time class: the latest CLASS_HISTORY_LIMIT of that class, from the sparse by-time-class index
        (only successes with a generation time carry `history_key`; it projects just that time, so the query
        reads ~1 unit). Without: the latest MODEL_HISTORY_LIMIT successes filtered to the model (cold classes).
        """
        if time_class is None:  # by-status projects the model and the time: the index alone answers
            items = self._by_status_items(
                JobStatus.SUCCEEDED, None, MODEL_HISTORY_LIMIT, projection="model, generation_seconds"
            )
            return [
                float(item["generation_seconds"]["N"])
                for item in items
                if "N" in item.get("generation_seconds", {}) and item.get("model", {}).get("S") == model
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
