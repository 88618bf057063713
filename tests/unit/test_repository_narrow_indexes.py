"""The job indexes project only what their queries read (issue 25: every write of a job item rewrote both whole
entries): by-source keys only, by-status the model and the generation time. The repository still returns whole
records from both, on moto, which enforces projections like DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from i2v.adapters.repository import JobRepository
from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord
from support.jobs_table import moto_jobs_table


@pytest.fixture
def repo() -> Iterator[JobRepository]:
    with moto_jobs_table() as table:
        yield JobRepository(table)


def _job(n: int, key: str = "incoming/cat.png") -> JobRecord:
    return JobRecord.model_validate(
        {
            "job_id": f"job-{n:03d}",
            "status": "received",
            "attempt": 1,
            "source": {
                "bucket": "in",
                "key": key,
                "version_id": f"v{n}",
                "etag": "e",
                "size": 10,
                "sequencer": f"{n:04d}",
            },
            "source_id": f"in/{key}",
            "settings": {"prompt": "a cat"},
            "model": "pixverse-v5.5-i2v",
            "created_at": f"2026-12-07T10:00:{n:02d}Z",
            "updated_at": f"2026-12-07T10:00:{n:02d}Z",
        }
    )


def test_by_status_returns_whole_records_newest_first(repo: JobRepository) -> None:
    for n in range(3):
        repo.claim(_job(n, f"incoming/{n}.png"), f"{n:032d}")
    found = repo.by_status(JobStatus.RECEIVED, limit=2)
    assert [j.job_id for j in found] == ["job-002", "job-001"]
    assert found[0].source.key == "incoming/2.png"
    assert found[0].settings == {"prompt": "a cat"}


def test_by_source_returns_whole_records(repo: JobRepository) -> None:
    repo.claim(_job(1), f"{1:032d}")
    (found,) = repo.by_source("in", "incoming/cat.png")
    assert found.job_id == "job-001"
    assert found.model == "pixverse-v5.5-i2v"
    assert found.source.version_id == "v1"
