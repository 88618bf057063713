"""Scenarios 1 and 2: the same object version delivered again, and a key overwritten with a new version.

Also covered elsewhere (not repeated here): the same notification re-sent after the job finished
(tests/workflow/test_workflow.py::test_duplicate_s3_event_posts_once), an SQS message handed out twice
(::test_redelivered_sqs_message_posts_once) and a lost StartExecution response
(::test_start_execution_retried_after_a_lost_response_posts_once).
"""

from __future__ import annotations

from typing import Any

import pytest

from i2v.adapters.gmi import GmiClient
from i2v.domain.jobs import TransientError
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import (
    FAILED,
    SUBMITTED,
    dead_letters,
    handled,
    send,
    submit_module,
    take_notifications,
)
from support.watch_queue import submit_pump

pytestmark = pytest.mark.xdist_group(__name__)


def test_s01_duplicate_notification_returns_the_existing_job(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = leak_guard.watch(local_stack)
    job_id = pipeline.upload("incoming/dup/twice.png")
    (notification,) = take_notifications(local_stack)

    # S3 delivers at least once: the same notification twice in one batch, then once more mid-flight.
    send(local_stack, notification, notification)
    local_stack.pump()
    send(local_stack, notification)
    local_stack.run_until_idle(timeout=30)

    assert handled(leak_guard.json_lines(), job_id) == ["submitted", "duplicate", "duplicate"]
    assert local_gmi.post_count == 1
    assert len(pipeline.executions()) == 1
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.attempt == 1
    assert [e["detail"]["job_id"] for e in tap.of_type(SUBMITTED)] == [job_id]
    assert sum(leak_guard.metric_values("DuplicatesSkipped")) == 2
    assert dead_letters(local_stack) == []


def test_s01_duplicate_arriving_while_the_first_is_posting_does_not_make_it_ambiguous(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two Lambda instances get the same notification (MaximumConcurrency is 2): the second one runs while the
    first is inside its POST. It must neither POST nor call the in-flight submission ambiguous."""
    tap = leak_guard.watch(local_stack)
    job_id = pipeline.upload("incoming/dup/concurrent.png")
    (notification,) = take_notifications(local_stack)
    pump = submit_pump(local_stack)
    duplicate = pump.event_for([_as_received(notification)])["Records"][0]
    seen: list[Any] = []
    original_submit = GmiClient.submit

    def submit_with_a_concurrent_duplicate(self: GmiClient, payload: dict[str, Any], **options: Any) -> Any:
        if not seen:
            # The other instance handles the duplicate now, while this one is about to POST.
            try:
                seen.append(submit_module().record_handler(duplicate))
            except TransientError as later:
                seen.append(later)
            seen.append(pipeline.job(job_id).status)
        return original_submit(self, payload, **options)

    monkeypatch.setattr(GmiClient, "submit", submit_with_a_concurrent_duplicate)
    send(local_stack, notification)
    local_stack.pump()
    assert pipeline.job(job_id).status in ("submitted", "queued", "processing", "succeeded")
    send(local_stack, notification)  # SQS brings the duplicate back after its visibility timeout
    local_stack.run_until_idle(timeout=30)

    concurrent, status_after_it = seen
    assert isinstance(concurrent, TransientError), concurrent  # "not now": SQS redelivers it later
    assert status_after_it == "submitting"
    assert local_gmi.post_count == 1
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert handled(leak_guard.json_lines(), job_id) == ["submitted", "duplicate"]
    assert tap.of_type(FAILED) == []
    assert len(pipeline.executions()) == 1


def _as_received(body: str) -> dict[str, Any]:
    """A ReceiveMessage-shaped message for the pump's event builder."""
    return {"MessageId": "duplicate-1", "ReceiptHandle": "duplicate-1", "Body": body, "Attributes": {}}


def test_s02_new_version_is_a_new_job_and_a_late_old_event_changes_nothing(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = leak_guard.watch(local_stack)
    key = "incoming/overwritten.png"
    old_job = pipeline.upload(key, png_bytes(shade=10), prompt="first version")
    (old_notification,) = take_notifications(local_stack)
    send(local_stack, old_notification)
    local_stack.run_until_idle(timeout=30)

    new_job = pipeline.upload(key, png_bytes(shade=200), prompt="second version")
    local_stack.run_until_idle(timeout=30)

    assert new_job != old_job
    old, new = pipeline.job(old_job), pipeline.job(new_job)
    assert (old.status, new.status) == ("succeeded", "succeeded")
    assert old.source.version_id != new.source.version_id
    assert new.settings["prompt"] == "second version"
    assert local_gmi.post_count == 2
    before = {job.job_id: job.model_dump() for job in (old, new)}

    # The first version's notification shows up once more, late.
    send(local_stack, old_notification)
    local_stack.run_until_idle(timeout=30)

    assert local_gmi.post_count == 2
    assert {job_id: pipeline.job(job_id).model_dump() for job_id in before} == before
    assert handled(leak_guard.json_lines(), old_job)[-1] == "duplicate"
    assert len(pipeline.executions()) == 2
    assert len(tap.of_type(SUBMITTED)) == 2


def test_s02_old_version_event_arriving_after_the_new_one_is_superseded(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    key = "incoming/raced.png"
    old_job = pipeline.upload(key, png_bytes(shade=1))
    new_job = pipeline.upload(key, png_bytes(shade=2))
    old_notification, new_notification = take_notifications(local_stack)

    # Out of order: the newer version's notification is delivered first.
    send(local_stack, new_notification)
    local_stack.run_until_idle(timeout=30)
    send(local_stack, old_notification)
    local_stack.run_until_idle(timeout=30)

    assert pipeline.job(new_job).status == "succeeded"
    assert pipeline.repo.get(old_job) is None  # never claimed: nothing to pay for, nothing to clean up
    assert local_gmi.post_count == 1
    assert handled(leak_guard.json_lines()) == ["submitted", "superseded"]
    assert sum(leak_guard.metric_values("SupersededEventsSkipped")) == 1
    assert [j.job_id for j in pipeline.repo.by_source(pipeline.input_bucket, key)] == [new_job]
