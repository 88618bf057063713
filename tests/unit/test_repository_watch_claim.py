"""The watch look's claim (issue 24, defect 2): one conditional write on the job item, the same rule on DynamoDB
(moto) and on the fake the service tests use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from i2v.adapters.repository import JobRepository, WatchLookClaim
from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord, SourceRef, iso, utc_now
from support.fakes import FakeJobRepository
from support.jobs_table import moto_jobs_table

JOB_ID = "d" * 32
NOW = 1_800_000_000.0


@pytest.fixture(params=["dynamodb", "fake"])
def repo(request: pytest.FixtureRequest) -> Iterator[Any]:
    now = iso(utc_now())
    job = JobRecord(
        job_id=JOB_ID,
        status=JobStatus.QUEUED,
        source=SourceRef(bucket="in", key="incoming/cat.png"),
        model="m",
        created_at=now,
        updated_at=now,
    )
    if request.param == "fake":
        fake = FakeJobRepository()
        fake.put(job)
        yield fake
        return
    with moto_jobs_table() as table:
        real = JobRepository(table)
        assert real.claim(job, "0" * 32).outcome == "created"
        yield real


def _claim(chain: str, look: int, message: str, now: float = NOW, lease: float = 30) -> WatchLookClaim:
    return WatchLookClaim(chain=chain, look=look, message_id=message, now=now, lease_until=now + lease)


def test_looks_are_claimed_in_turn_once_each(repo: Any) -> None:
    assert repo.claim_look(JOB_ID, _claim("a", 0, "m0"))
    assert not repo.claim_look(JOB_ID, _claim("a", 0, "m0-copy"))  # another copy of look 0
    assert not repo.claim_look(JOB_ID, _claim("a", 2, "m2"))  # out of turn
    assert repo.claim_look(JOB_ID, _claim("a", 1, "m1"))
    assert repo.claim_look(JOB_ID, _claim("a", 2, "m2"))
    assert not repo.claim_look(JOB_ID, _claim("a", 1, "m1", now=NOW + 3600))  # past: the chain moved on


def test_the_same_message_may_redo_its_look_only_after_the_lease(repo: Any) -> None:
    assert repo.claim_look(JOB_ID, _claim("a", 0, "m0"))
    assert not repo.claim_look(JOB_ID, _claim("a", 0, "m0", now=NOW + 10))  # within the lease
    assert repo.claim_look(JOB_ID, _claim("a", 0, "m0", now=NOW + 31))
    assert repo.claim_look(JOB_ID, _claim("a", 1, "m1", now=NOW + 31))


def test_a_new_chain_starts_at_look_zero_and_the_old_one_is_refused(repo: Any) -> None:
    assert repo.claim_look(JOB_ID, _claim("a", 0, "m0"))
    assert repo.claim_look(JOB_ID, _claim("a", 1, "m1"))
    assert not repo.claim_look(JOB_ID, _claim("b", 1, "n1"))  # not the item's chain
    assert repo.claim_look(JOB_ID, _claim("b", 0, "n0"))
    assert not repo.claim_look(JOB_ID, _claim("a", 2, "m2"))  # the old chain is over


def test_a_job_that_does_not_exist_claims_nothing(repo: Any) -> None:
    assert not repo.claim_look("e" * 32, _claim("a", 0, "m0"))


def test_a_released_look_may_be_redone_by_its_own_message_only(repo: Any) -> None:
    claim = _claim("a", 0, "m0")
    assert repo.claim_look(JOB_ID, claim)
    repo.release_look(JOB_ID, claim)
    assert not repo.claim_look(JOB_ID, _claim("a", 0, "m0-copy", now=NOW + 1))
    assert repo.claim_look(JOB_ID, _claim("a", 0, "m0", now=NOW + 1))
    repo.release_look(JOB_ID, _claim("a", 0, "someone-else"))  # not the holder: nothing happens
    assert not repo.claim_look(JOB_ID, _claim("a", 0, "m0", now=NOW + 2))


def test_a_finished_look_is_never_redone(repo: Any) -> None:
    """Its successor sent: the same message back after the lease (a lost delete) may not look again."""
    claim = _claim("a", 0, "m0")
    assert repo.claim_look(JOB_ID, claim)
    repo.finish_look(JOB_ID, claim)
    assert not repo.claim_look(JOB_ID, _claim("a", 0, "m0", now=NOW + 3600))
    assert repo.claim_look(JOB_ID, _claim("a", 1, "m1", now=NOW + 3600))  # its successor still may
    repo.finish_look(JOB_ID, _claim("a", 0, "m0"))  # no longer the holder: nothing happens
    assert repo.claim_look(JOB_ID, _claim("a", 1, "m1", now=NOW + 7200))  # m1's own redo after its lease
