"""SQS partial batch responses (the event source mapping's ReportBatchItemFailures).

Written here rather than with Powertools' batch utility: importing it imports the data classes of every event
source Powertools supports, ~15 ms of the submit function's cold start against a 1.5x-bare-boto3 target
(docs/benchmarks.md, section 3). The contract is small: the ids of the records that failed; every record failed
-> the invocation fails (as Powertools does), so Lambda counts an error and SQS redelivers the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any


class BatchFailedError(Exception):
    """Every record of the batch failed (only the error types are named: messages may carry what must not leak)."""


def partial_batch_response(
    event: Mapping[str, Any], handle: Callable[[Mapping[str, Any]], object], logger: logging.Logger | Any
) -> dict[str, list[dict[str, str]]]:
    """`logger`: the function's (Powertools) logger; this module imports none, so tests import it freely."""
    records: list[Mapping[str, Any]] = list(event.get("Records") or [])
    failures: list[dict[str, str]] = []
    errors: list[str] = []
    for record in records:
        try:
            handle(record)
        except Exception as error:  # each record on its own: one bad message must not send the others back
            logger.warning(
                "record failed", extra={"message_id": record.get("messageId"), "error": type(error).__name__}
            )
            failures.append({"itemIdentifier": str(record["messageId"])})
            errors.append(type(error).__name__)
    if records and len(failures) == len(records):
        raise BatchFailedError(f"all {len(records)} records failed: {', '.join(errors)}")
    return {"batchItemFailures": failures}
