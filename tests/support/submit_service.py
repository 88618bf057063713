"""One way to build a SubmitService on the fakes (tests/support/fakes.py), for every service-level submit test."""

from __future__ import annotations

import random
from collections.abc import Callable

from i2v.config import SubmitEnv
from i2v.domain.record import JobRecord
from i2v.domain.source import SourceObject, job_id_for
from i2v.services.submit import SubmitService
from i2v.services.submit_gate import SubmitGate
from support.fakes import FakeBreaker, Fakes

NOW = 1_800_000_000.0
BUCKET = "input-bucket"
ENVIRONMENT = {
    "JOBS_TABLE_NAME": "jobs",
    "EVENT_BUS_NAME": "bus",
    "GMI_API_KEY_SECRET_ID": "secret",
    "OUTPUT_BUCKET": "output-bucket",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:poll",
    "DEFAULT_SETTINGS": '{"prompt": "a calm sea"}',
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def submit_env(**overrides: str) -> SubmitEnv:
    return SubmitEnv.model_validate({**ENVIRONMENT, **overrides})


def submit_service(
    fakes: Fakes,
    *,
    env: SubmitEnv | None = None,
    gate: SubmitGate | None = None,
    clock: Callable[[], float] | None = None,
    time_left_ms: int = 600_000,
    sleep: Callable[[float], object] = lambda _seconds: None,
    rng: random.Random | None = None,
) -> SubmitService:
    """`env`: the function's environment, whose options the service gets; `gate`: by default a closed
    FakeBreaker and no pacing."""
    rng = rng or random.Random(7)
    return SubmitService(
        options=(env or submit_env()).options(),
        repo=fakes.repo,
        images=fakes.images,
        gmi=fakes.gmi,
        publisher=fakes.publisher,
        workflow=fakes.workflow,
        requeue=fakes.requeue,
        metrics=fakes.metrics,
        spend_metrics=fakes.spend,
        time_left_ms=lambda: time_left_ms,
        sleep=sleep,
        rng=rng,
        clock=clock or Clock(),
        gate=gate or SubmitGate(breaker=FakeBreaker(), rng=rng),
    )


def upload(fakes: Fakes, key: str = "incoming/cat.png") -> SourceObject:
    """An image in the fake input bucket, as its S3 notification describes it."""
    fakes.images.add(BUCKET, key)
    return SourceObject(bucket=BUCKET, key=key, version_id="v1", etag="e", sequencer="0A", size=72)


def job_of(fakes: Fakes, source: SourceObject) -> JobRecord:
    job = fakes.repo.get(job_id_for(source))
    assert job is not None
    return job
