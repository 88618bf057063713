"""One way to build a PollService on the fakes (tests/support/fakes.py), for the service-level poll tests."""

from __future__ import annotations

from i2v.domain.jobs import JobStatus
from i2v.domain.polling import PollPolicy
from i2v.domain.record import JobRecord, SourceRef
from i2v.domain.workflow import ExecutionInput, PollState
from i2v.services.poll import PollService
from support.fakes import Fakes


class FakeClock:
    """Time moves only when the service sleeps (or a test says so)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def poll_service(
    fakes: Fakes, job_id: str, now: float, status: JobStatus = JobStatus.SUBMITTED, **policy: int
) -> tuple[PollService, FakeClock]:
    """A service whose clock reads `now`, over a record of `job_id` in `status` with GMI request `req-1`."""
    fakes.repo.put(
        JobRecord(
            job_id=job_id,
            status=status,
            source=SourceRef(bucket="b", key="incoming/k.png"),
            model="m",
            request_id="req-1",
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
        )
    )
    clock = FakeClock(now)
    service = PollService(
        repo=fakes.repo,
        gmi=fakes.gmi,
        policy=PollPolicy(**policy),
        metrics=fakes.metrics,
        clock=clock,
        sleep=clock.sleep,
    )
    return service, clock


def first_state(
    job_id: str, submitted_at: float, deadline_seconds: float, first_wait_seconds: int = 20, **poll: object
) -> PollState:
    """The execution state as submit starts it (GMI said queued, nothing learned yet), with `poll` fields over
    the first verdict."""
    first = ExecutionInput.first(
        job_id=job_id,
        attempt=1,
        request_id="req-1",
        model="m",
        time_class={},
        submitted_at=submitted_at,
        deadline_at=submitted_at + deadline_seconds,
        gmi_status="queued",
        expectation=None,
        first_wait_seconds=first_wait_seconds,
    )
    return PollState.model_validate({**first.model_dump(), "poll": {**first.poll.model_dump(), **poll}})
