"""Scenario 24, raced: submissions taking the daily cap at the same moment never take more than the cap.

Real threads against moto, all released at once by a barrier, each taking one submission from the same day's
budget through `JobRepository.consume_budget` (the conditional update the submit service relies on). A cap
checked by reading the count and then writing it back lets several contenders see the same count: this
test fails on such a cap (`make mutants`: cap not atomic).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from i2v.adapters.repository import JobRepository
from i2v_local.stack import LocalStack
from support.atomic_dynamodb import atomic_dynamodb

pytestmark = pytest.mark.xdist_group(__name__)

CAP = 4
CONTENDERS = 12
DAYS = 5  # independent races: one lucky interleaving cannot hide a read-then-write cap


@pytest.fixture
def atomic_moto() -> Iterator[None]:
    with atomic_dynamodb():
        yield


def _count(stack: LocalStack, day: str) -> int:
    item = stack.client("dynamodb").get_item(
        TableName=stack.outputs["JobsTableName"], Key={"pk": {"S": f"BUDGET#{day}"}, "sk": {"S": "COUNT"}}
    )["Item"]
    return int(item["submissions"]["N"])


def test_s24_concurrent_submissions_never_take_more_than_the_cap(
    local_stack: LocalStack, atomic_moto: None, leak_guard: Any
) -> None:
    repo = JobRepository(local_stack.outputs["JobsTableName"])
    for n in range(DAYS):
        day = f"2026-03-{10 + n:02d}"
        start = threading.Barrier(CONTENDERS)

        def contend(_: int, day: str = day, start: threading.Barrier = start) -> bool:
            start.wait()
            return repo.consume_budget(day, CAP, expires_at=0)

        with ThreadPoolExecutor(CONTENDERS) as pool:
            taken = list(pool.map(contend, range(CONTENDERS)))

        assert taken.count(True) == CAP, (day, taken)
        assert _count(local_stack, day) == CAP
