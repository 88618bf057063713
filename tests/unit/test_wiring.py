"""The composition root builds what each function needs; where two functions do the same thing, the same way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from i2v.handlers import wiring

ENV = {
    "JOBS_TABLE_NAME": "jobs-table",
    "EVENT_BUS_NAME": "bus",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:i2v",
    "SUBMIT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/submit",
    "SWEEP_SUBMIT_MESSAGE_SECONDS": "900",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    wiring.clear()
    yield
    wiring.clear()


@pytest.mark.usefixtures("environment")
def test_the_sweeper_records_a_failure_as_the_fail_function_does() -> None:
    # A manifest line's job the sweeper fails must end its line, or the manifest never completes (the sweeper's
    # FailureService was built without the manifest summaries).
    swept, failed = wiring.sweeper_service().failures, wiring.failure_service()
    assert swept.manifests is not None
    assert type(swept.manifests) is type(failed.manifests)
    assert (type(swept.repo), type(swept.publisher), swept.metrics) == (
        type(failed.repo),
        type(failed.publisher),
        failed.metrics,
    )
