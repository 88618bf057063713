"""The sweeper on fakes: which forgotten job gets which action, and what is left alone (milliseconds)."""

from __future__ import annotations

from typing import Any

import pytest

from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord, SourceRef
from i2v.domain.sweep import Execution
from i2v.services.failure import FailureService
from i2v.services.reconcile import SETTLE_SECONDS
from i2v.services.sweeper import Sweeper, iso_at, windows
from i2v_events.v1 import DetailType
from support.fakes import FakeExecutions, Fakes

NOW = 1_800_000_000.0
WINDOWS = windows(submit_message_seconds=3600)


# Jobs whose end the sweeper records get real job ids: their Failed event's model checks the id's form.
ABORTED, TIMED, LOST, ENDED = ("ab" * 16, "7e" * 16, "10" * 16, "e0" * 16)


def _job(fakes: Fakes, job_id: str, status: JobStatus, age: float, **fields: Any) -> None:
    fakes.repo.put(
        JobRecord(
            job_id=job_id,
            status=status,
            source=SourceRef(bucket="in", key=f"incoming/{job_id}.png"),
            model="pixverse-v5.5-i2v",
            request_id="req-1" if status not in (JobStatus.RECEIVED, JobStatus.DEFERRED) else None,
            created_at=iso_at(NOW - age - 10),
            updated_at=iso_at(NOW - age),
            **fields,
        )
    )


def _sweeper(fakes: Fakes, executions: FakeExecutions) -> Sweeper:
    return Sweeper(
        jobs=fakes.repo,
        repo=fakes.repo,
        executions=executions,
        submit_queue=fakes.requeue,
        failures=FailureService(repo=fakes.repo, publisher=fakes.publisher, metrics=fakes.metrics),
        windows=WINDOWS,
        metrics=fakes.metrics,
        clock=lambda: NOW,
    )


@pytest.fixture
def executions() -> FakeExecutions:
    return FakeExecutions()


def _status(fakes: Fakes, job_id: str) -> JobStatus:
    job = fakes.repo.get(job_id)
    assert job is not None
    return job.status


def test_an_ended_execution_nothing_recorded_is_recorded_and_announced(
    fakes: Fakes, executions: FakeExecutions
) -> None:
    _job(fakes, ABORTED, JobStatus.PROCESSING, age=3600, execution_name="aborted-1")
    _job(fakes, TIMED, JobStatus.QUEUED, age=3600, execution_name="timed-1")
    executions.executions["aborted-1"] = Execution("ABORTED", stopped_at=NOW - 1000)
    executions.executions["timed-1"] = Execution("TIMED_OUT", stopped_at=NOW - 1000, error="States.Timeout")

    report = _sweeper(fakes, executions).sweep()

    assert report == {"record_failure": 2}
    aborted, timed = fakes.repo.get(ABORTED), fakes.repo.get(TIMED)
    assert aborted is not None
    assert aborted.failure is not None
    assert timed is not None
    assert timed.failure is not None
    assert (aborted.status, aborted.failure.category) == (JobStatus.FAILED, "workflow_error")
    assert "ended aborted" in aborted.failure.message
    assert "sweeper" in aborted.failure.message
    assert (timed.status, timed.failure.category) == (JobStatus.TIMED_OUT, "timed_out")
    assert fakes.publisher.detail_types() == [DetailType.FAILED] * 2
    assert fakes.metrics.names().count("SweptToFailure") == 2


def test_a_running_execution_is_left_alone(fakes: Fakes, executions: FakeExecutions) -> None:
    _job(fakes, "running", JobStatus.PROCESSING, age=3600, execution_name="running-1")
    executions.executions["running-1"] = Execution("RUNNING")
    assert _sweeper(fakes, executions).sweep() == {"leave": 1}
    assert _status(fakes, "running") == JobStatus.PROCESSING
    assert fakes.requeue.sent == []
    assert fakes.publisher.events == []
    assert not any(name.startswith("Swept") for name in fakes.metrics.names())


def test_an_execution_that_just_ended_is_left_to_the_failure_rule(fakes: Fakes, executions: FakeExecutions) -> None:
    _job(fakes, "ended", JobStatus.PROCESSING, age=3600, execution_name="ended-1")
    executions.executions["ended-1"] = Execution("FAILED", stopped_at=NOW - 60)
    assert _sweeper(fakes, executions).sweep() == {"leave": 1}
    assert _status(fakes, "ended") == JobStatus.PROCESSING


def test_a_quiet_in_flight_job_is_looked_at_a_fresh_one_is_not(fakes: Fakes, executions: FakeExecutions) -> None:
    _job(fakes, "fresh", JobStatus.PROCESSING, age=WINDOWS.in_flight_seconds - 10)
    _job(fakes, "quiet", JobStatus.PROCESSING, age=WINDOWS.in_flight_seconds + 10)
    executions.executions["quiet-1"] = Execution("RUNNING")
    _sweeper(fakes, executions).sweep()
    assert executions.described == ["quiet-1"]  # the name submit gives it, recorded or not


def test_a_submitted_job_whose_execution_never_started_is_resumed_once_its_message_is_gone(
    fakes: Fakes, executions: FakeExecutions
) -> None:
    _job(fakes, "unstarted", JobStatus.SUBMITTED, age=WINDOWS.submit_message_seconds + 10)
    _job(fakes, "starting", JobStatus.SUBMITTED, age=WINDOWS.submit_message_seconds - 10)
    assert _sweeper(fakes, executions).sweep() == {"resume": 1, "leave": 1}
    assert fakes.requeue.sent == [({"kind": "resume", "job_id": "unstarted"}, 0)]
    swept = fakes.repo.get("unstarted")
    assert swept is not None
    assert swept.swept_at == NOW
    assert "SweptToResume" in fakes.metrics.names()


def test_a_job_whose_recorded_execution_does_not_exist_fails_with_the_reason(
    fakes: Fakes, executions: FakeExecutions
) -> None:
    _job(fakes, LOST, JobStatus.PROCESSING, age=3600, execution_name="lost-1")
    assert _sweeper(fakes, executions).sweep() == {"record_failure": 1}
    lost = fakes.repo.get(LOST)
    assert lost is not None
    assert lost.failure is not None
    assert (lost.status, lost.failure.category) == (JobStatus.FAILED, "workflow_error")
    assert "lost-1 does not exist" in lost.failure.message


def test_an_ambiguous_job_past_its_settle_window_is_reconciled_once(fakes: Fakes, executions: FakeExecutions) -> None:
    failure = {"category": "submit_ambiguous", "message": "GMI answered 500"}
    _job(fakes, "settled", JobStatus.SUBMIT_AMBIGUOUS, age=SETTLE_SECONDS + 61, failure=failure)
    _job(fakes, "settling", JobStatus.SUBMIT_AMBIGUOUS, age=SETTLE_SECONDS - 1, failure=failure)
    not_found = {"category": "submit_ambiguous", "message": "not in GMI's request list as of 2027-01-15T08:00:00Z"}
    _job(fakes, "looked", JobStatus.SUBMIT_AMBIGUOUS, age=3600, failure=not_found)
    sweeper = _sweeper(fakes, executions)

    assert sweeper.sweep() == {"reconcile": 1, "leave": 1}  # "settling" is too young to be read at all
    assert fakes.requeue.sent == [({"kind": "reconcile", "job_id": "settled", "now": True}, 0)]
    assert sweeper.sweep() == {"leave": 2}  # swept: its reconcile message may still be on its way
    assert "SweptToReconcile" in fakes.metrics.names()


@pytest.mark.parametrize(
    ("status", "window"),
    [
        (JobStatus.RECEIVED, WINDOWS.submit_message_seconds),
        (JobStatus.SUBMITTING, WINDOWS.submit_message_seconds),
        (JobStatus.DEFERRED, WINDOWS.deferred_seconds),
    ],
)
def test_a_job_waiting_for_a_submit_message_is_resumed_only_past_that_messages_window(
    fakes: Fakes, executions: FakeExecutions, status: JobStatus, window: int
) -> None:
    _job(fakes, "forgotten", status, age=window + 10)
    _job(fakes, "in-the-queue", status, age=window - 10)
    assert _sweeper(fakes, executions).sweep() == {"resume": 1}
    assert fakes.requeue.sent == [({"kind": "resume", "job_id": "forgotten"}, 0)]


def test_terminal_jobs_are_never_read(fakes: Fakes, executions: FakeExecutions) -> None:
    for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.REJECTED):
        _job(fakes, str(status), status, age=10**6)
    assert _sweeper(fakes, executions).sweep() == {}


def test_a_run_stops_when_its_time_is_up(fakes: Fakes, executions: FakeExecutions) -> None:
    for n in range(3):
        _job(fakes, f"job{n}", JobStatus.RECEIVED, age=WINDOWS.submit_message_seconds + n + 1)
    left = iter([60_000, 5_000])
    assert _sweeper(fakes, executions).sweep(lambda: next(left)) == {"resume": 1}


def test_jobs_left_alone_without_a_call_do_not_crowd_out_the_rest(fakes: Fakes, executions: FakeExecutions) -> None:
    looked_up = {"category": "submit_ambiguous", "message": "not in GMI's request list as of 2027-01-15T08:00:00Z"}
    for n in range(5):  # the oldest: waiting for an operator
        _job(fakes, f"waiting{n}", JobStatus.SUBMIT_AMBIGUOUS, age=10 * HOUR_S - n, failure=looked_up)
    for n in range(3):
        _job(fakes, f"lost{n}", JobStatus.SUBMIT_AMBIGUOUS, age=HOUR_S - n)
    sweeper = _sweeper(fakes, executions)
    sweeper.limit_per_status = 2
    assert sweeper.sweep() == {"leave": 5, "reconcile": 2}  # two calls this run; the third job the next run
    assert [body["job_id"] for body, _ in fakes.requeue.sent] == ["lost0", "lost1"]


HOUR_S = 3600
