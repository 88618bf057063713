"""JobRepository.recent_generation_seconds on moto: a time class reads its own sparse index, newest first and
at most CLASS_HISTORY_LIMIT; the model-wide question (a cold class) reads the latest successes of the model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from i2v.adapters.aws import client
from i2v.adapters.repository import JobRepository, job_key
from i2v.domain.jobs import JobStatus
from i2v.domain.polling import CLASS_HISTORY_LIMIT, history_key
from support.jobs_table import moto_jobs_table

SHORT = {"quality": "540p", "duration": "5"}
LONG = {"quality": "1080p", "duration": "8"}


@pytest.fixture
def repo() -> Iterator[JobRepository]:
    with moto_jobs_table() as table:
        yield JobRepository(table)


def _succeeded(repo: JobRepository, n: int, model: str, time_class: dict[str, str] | None, seconds: float) -> None:
    """A succeeded job record as CompleteService leaves it (history_key only with a generation time)."""
    stamp = f"2026-12-02T10:{n // 60:02d}:{n % 60:02d}Z"
    item: dict[str, Any] = {
        **{k: v["S"] for k, v in job_key(f"job-{n}").items()},
        "job_id": f"job-{n}",
        "status": str(JobStatus.SUCCEEDED),
        "model": model,
        "source": {"bucket": "in", "key": f"incoming/{n}.png"},
        "settings": dict(time_class or {}),
        "created_at": stamp,
        "updated_at": stamp,
        "generation_seconds": seconds,
    }
    if time_class is not None:
        item["history_key"] = history_key(model, time_class)
    serializer = TypeSerializer()
    client("dynamodb").put_item(
        TableName=repo.table_name, Item={k: serializer.serialize(_decimal(v)) for k, v in item.items()}
    )


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(value)) if isinstance(value, float) else value


def test_a_time_class_reads_only_its_own_successes_newest_first(repo: JobRepository) -> None:
    for n in range(5):
        _succeeded(repo, n, "pixverse-v5.5-i2v", SHORT, 100.0 + n)
        _succeeded(repo, 100 + n, "pixverse-v5.5-i2v", LONG, 300.0 + n)
        _succeeded(repo, 200 + n, "kling-v2-6", SHORT, 50.0 + n)

    assert repo.recent_generation_seconds("pixverse-v5.5-i2v", SHORT) == [104.0, 103.0, 102.0, 101.0, 100.0]
    assert repo.recent_generation_seconds("pixverse-v5.5-i2v", LONG) == [304.0, 303.0, 302.0, 301.0, 300.0]


def test_a_time_class_reads_at_most_its_limit(repo: JobRepository) -> None:
    for n in range(CLASS_HISTORY_LIMIT + 7):
        _succeeded(repo, n, "pixverse-v5.5-i2v", SHORT, float(n + 1))

    found = repo.recent_generation_seconds("pixverse-v5.5-i2v", SHORT)
    assert len(found) == CLASS_HISTORY_LIMIT
    assert found[0] == CLASS_HISTORY_LIMIT + 7


def test_the_model_wide_history_mixes_classes_but_not_models(repo: JobRepository) -> None:
    _succeeded(repo, 1, "pixverse-v5.5-i2v", SHORT, 100.0)
    _succeeded(repo, 2, "pixverse-v5.5-i2v", LONG, 300.0)
    _succeeded(repo, 3, "kling-v2-6", SHORT, 50.0)
    _succeeded(repo, 4, "pixverse-v5.5-i2v", None, 200.0)  # no history_key: not in any class, still the model's

    assert sorted(repo.recent_generation_seconds("pixverse-v5.5-i2v", None)) == [100.0, 200.0, 300.0]
    assert repo.recent_generation_seconds("pixverse-v5.5-i2v", {"quality": "720p", "duration": "5"}) == []
