"""JobRepository.claim reads why DynamoDB cancelled the transaction (issue 11, item 2): only a failed condition
means duplicate or superseded; a conflict or throttling is transient and the upload must come back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from i2v.adapters.aws import client
from i2v.adapters.repository import JobRepository
from i2v.domain.jobs import JobStatus, TransientError
from i2v.domain.record import JobRecord, SourceRef, iso, utc_now
from i2v.domain.source import SourceObject, job_id_for, padded_sequencer
from support.jobs_table import moto_jobs_table


@pytest.fixture
def repo() -> Iterator[JobRepository]:
    with moto_jobs_table() as table:
        yield JobRepository(table)


def _job(version: str, sequencer: str) -> tuple[JobRecord, str]:
    source = SourceObject("in", "incoming/cat.png", version, "etag", sequencer, 10)
    now = iso(utc_now())
    job = JobRecord(
        job_id=job_id_for(source),
        status=JobStatus.RECEIVED,
        source=SourceRef.of(source),
        model="m",
        timestamps={JobStatus.RECEIVED: now},
        created_at=now,
        updated_at=now,
    )
    return job, padded_sequencer(sequencer)


def _cancel_next_transactions(reasons: list[dict[str, str]]) -> list[int]:
    """Answer TransactWriteItems the way DynamoDB does when it cancels one: botocore's parsed error shape
    (Error + CancellationReasons, one per item in order), injected at botocore's before-call hook."""
    calls: list[int] = []

    def cancel(**_: Any) -> tuple[Any, dict[str, Any]]:
        calls.append(1)
        codes = ", ".join(r["Code"] for r in reasons)
        parsed = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            },
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return type("Http", (), {"status_code": 400})(), parsed

    client("dynamodb").meta.events.register_first("before-call.dynamodb.TransactWriteItems", cancel)
    return calls


@pytest.mark.parametrize(
    "reason",
    [
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity for one or more tables"},
        {"Code": "ProvisionedThroughputExceeded", "Message": "The level of configured provisioned throughput"},
    ],
)
def test_a_claim_cancelled_for_anything_but_a_condition_is_transient(
    repo: JobRepository, reason: dict[str, str]
) -> None:
    newer, seq = _job("v2", "0062E0")
    calls = _cancel_next_transactions([reason, {"Code": "None"}])

    with pytest.raises(TransientError, match=reason["Code"]):
        repo.claim(newer, seq)

    assert calls
    assert repo.get(newer.job_id) is None  # nothing was written; the message comes back and claims again


def test_a_failed_condition_still_means_duplicate_or_superseded(repo: JobRepository) -> None:
    older, older_seq = _job("v1", "0062D0")
    newer, newer_seq = _job("v2", "0062E0")
    assert repo.claim(newer, newer_seq).outcome == "created"
    assert repo.claim(newer, newer_seq).outcome == "duplicate"  # moto's own cancellation
    assert repo.claim(older, older_seq).outcome == "superseded"

    _cancel_next_transactions([{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}])
    other, other_seq = _job("v0", "0062C0")
    assert repo.claim(other, other_seq).outcome == "superseded"
