"""SubmitService branch by branch, on fakes: what is recorded, announced, started, and sent to GMI."""

from __future__ import annotations

from typing import Any

import pytest

from i2v.config import SubmitEnv
from i2v.domain.gmi_answers import GmiAmbiguousError, GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import JobFailedError, JobStatus, TransientError
from i2v.domain.record import JobRecord, SourceRef
from i2v.domain.source import SourceObject, job_id_for
from i2v.domain.workflow import ExecutionInput
from i2v.services.submit import SubmitOutcome, SubmitService
from i2v_events.v1 import DetailType
from support.fakes import Fakes
from support.submit_service import NOW, submit_env, submit_service

BUCKET = "input-bucket"


def _env(**overrides: Any) -> SubmitEnv:
    return submit_env(**overrides)


def _service(fakes: Fakes, **env: Any) -> tuple[SubmitService, list[float]]:
    slept: list[float] = []
    service = submit_service(fakes, env=_env(**env), clock=lambda: NOW, sleep=slept.append)
    return service, slept


def _upload(fakes: Fakes, key: str = "incoming/cat.png", sequencer: str = "0A", **metadata: str) -> SourceObject:
    fakes.images.add(BUCKET, key, metadata=metadata)
    return SourceObject(bucket=BUCKET, key=key, version_id="v1", etag="e", sequencer=sequencer, size=72)


def _status(fakes: Fakes, job_id: str | None) -> JobStatus:
    assert job_id is not None
    job = fakes.repo.get(job_id)
    assert job is not None
    return job.status


def test_an_upload_is_posted_once_announced_and_its_workflow_started(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    result = service.submit_source(_upload(fakes, prompt="waves roll in"))

    assert result.outcome == SubmitOutcome.SUBMITTED
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert (job.status, job.request_id, job.execution_name) == (JobStatus.SUBMITTED, "req-1", f"{job.job_id}-1")
    (payload,) = fakes.gmi.submitted
    assert payload["prompt"] == "waves roll in"
    assert payload["image_url"] == fakes.images.presigned[0]
    assert fakes.publisher.detail_types() == [DetailType.SUBMITTED]
    started = ExecutionInput.model_validate(fakes.workflow.started[f"{job.job_id}-1"])
    assert (started.request_id, started.submitted_at, started.deadline_at) == ("req-1", NOW, NOW + 1800)
    assert started.poll.outcome == "waiting"
    assert "JobsSubmitted" in fakes.metrics.names()


def test_a_request_gmi_finished_during_the_post_starts_the_workflow_at_complete(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(GmiRequest(request_id="req-fast", status="Completed"))
    service, _ = _service(fakes)
    result = service.submit_source(_upload(fakes))
    started = ExecutionInput.model_validate(fakes.workflow.started[f"{result.job_id}-1"])
    assert (started.gmi_status, started.poll.outcome) == ("completed", "succeeded")


def test_an_older_version_than_one_already_seen_is_skipped(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    service.submit_source(_upload(fakes, sequencer="0B"))
    older = _upload(fakes, sequencer="0A")
    older = SourceObject(**{**older.__dict__, "version_id": "v0"})

    result = service.submit_source(older)

    assert result.outcome == SubmitOutcome.SUPERSEDED
    assert len(fakes.gmi.submitted) == 1
    assert "SupersededEventsSkipped" in fakes.metrics.names()


def test_a_second_delivery_of_a_started_job_does_nothing(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    service.submit_source(source)

    again = service.submit_source(source)

    assert (again.outcome, again.status) == (SubmitOutcome.DUPLICATE, JobStatus.SUBMITTED)
    assert len(fakes.gmi.submitted) == 1
    assert len(fakes.workflow.started) == 1
    assert "DuplicatesSkipped" in fakes.metrics.names()


def test_a_submitted_job_whose_workflow_never_started_is_resumed(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    job_id = job_id_for(source)
    _put(fakes, job_id, JobStatus.SUBMITTED, request_id="req-9", gmi_status="queued")

    result = service.submit_source(source)

    assert result.outcome == SubmitOutcome.RESUMED
    assert fakes.workflow.started[f"{job_id}-1"]["request_id"] == "req-9"
    assert fakes.gmi.submitted == []


def _put(fakes: Fakes, job_id: str, status: JobStatus, **fields: Any) -> JobRecord:
    return fakes.repo.put(
        JobRecord(
            job_id=job_id,
            status=status,
            source=SourceRef(bucket=BUCKET, key="incoming/cat.png", version_id="v1", sequencer="0A"),
            settings={"prompt": "p", "quality": "540p", "duration": "5"},
            model="pixverse-v5.5-i2v",
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
            **fields,
        )
    )


def test_a_job_another_invocation_is_submitting_is_looked_at_again_later(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    _put(fakes, job_id_for(source), JobStatus.SUBMITTING, submit_lease_until=NOW + 60)
    with pytest.raises(TransientError):
        service.submit_source(source)
    assert fakes.gmi.submitted == []


def test_a_submission_interrupted_before_gmi_answered_is_ambiguous(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    _put(fakes, job_id_for(source), JobStatus.SUBMITTING, submit_lease_until=NOW - 60)

    result = service.submit_source(source)

    assert result.outcome == SubmitOutcome.AMBIGUOUS
    assert _status(fakes, result.job_id) == JobStatus.SUBMIT_AMBIGUOUS
    assert fakes.publisher.detail_types() == [DetailType.FAILED]
    assert fakes.gmi.submitted == []


@pytest.mark.parametrize(
    ("body", "category"),
    [
        (b"", "empty_image"),
        (b"GIF89a" + b"\x00" * 40, "unsupported_format"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image_too_large"),
    ],
)
def test_an_image_that_cannot_be_sent_is_rejected_before_any_post(fakes: Fakes, body: bytes, category: str) -> None:
    service, _ = _service(fakes, MAX_IMAGE_BYTES="100")
    source = _upload(fakes)
    fakes.images.add(BUCKET, source.key, body)

    result = service.submit_source(source)

    assert result.outcome == SubmitOutcome.REJECTED
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert job.failure is not None
    assert job.failure.category == category
    assert job.announced == JobStatus.REJECTED
    assert fakes.gmi.submitted == []
    assert f"Failure_{category}" in fakes.metrics.names()


def test_an_image_deleted_since_the_upload_is_source_missing(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    fakes.images.deleted.add((BUCKET, source.key))
    result = service.submit_source(source)
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert job.failure is not None
    assert (job.status, job.failure.category) == (JobStatus.REJECTED, "source_missing")


def test_a_missing_api_key_fails_the_job_before_anything_is_sent(fakes: Fakes) -> None:
    fakes.gmi.missing_key = GmiPermanentError("the GMI API key secret is empty", status_code=401)
    service, _ = _service(fakes)
    result = service.submit_source(_upload(fakes))
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert job.failure is not None
    assert (job.status, job.failure.category) == (JobStatus.FAILED, "gmi_unauthorized")
    assert fakes.gmi.submitted == []


def test_over_the_daily_cap_a_job_is_rejected(fakes: Fakes) -> None:
    service, _ = _service(fakes, DAILY_SUBMISSION_CAP="1")
    service.submit_source(_upload(fakes, key="incoming/one.png"))
    result = service.submit_source(_upload(fakes, key="incoming/two.png"))
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert job.failure is not None
    assert (result.outcome, job.failure.category) == (SubmitOutcome.REJECTED, "budget")
    assert len(fakes.gmi.submitted) == 1


def test_over_the_daily_cap_a_job_can_wait_for_the_next_day(fakes: Fakes) -> None:
    service, _ = _service(fakes, DAILY_SUBMISSION_CAP="1", BUDGET_EXCEEDED_ACTION="defer")
    service.submit_source(_upload(fakes, key="incoming/one.png"))
    result = service.submit_source(_upload(fakes, key="incoming/two.png"))
    assert (result.outcome, _status(fakes, result.job_id)) == (SubmitOutcome.DEFERRED, JobStatus.DEFERRED)
    assert fakes.requeue.sent == [({"kind": "resume", "job_id": result.job_id}, 900)]
    assert "SubmissionsDeferred" in fakes.metrics.names()


def test_a_refused_post_is_sent_again_after_the_retry_after(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(GmiRetryableError("GMI answered 429", status_code=429, retry_after=3))
    service, slept = _service(fakes)
    result = service.submit_source(_upload(fakes))
    assert result.outcome == SubmitOutcome.SUBMITTED
    assert len(fakes.gmi.submitted) == 2
    assert len(slept) == 1
    assert 3 <= slept[0] <= 4
    assert fakes.metrics.names().count("SubmitRetries") == 1


def test_a_post_refused_every_time_parks_the_job_and_gives_the_budget_back(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.extend(GmiRetryableError("GMI answered 503", status_code=503) for _ in range(4))
    service, _ = _service(fakes, DAILY_SUBMISSION_CAP="5")
    source = _upload(fakes)
    assert service.submit_source(source).outcome == SubmitOutcome.DEFERRED  # outage riding (issue 11)
    assert _status(fakes, job_id_for(source)) == JobStatus.DEFERRED
    assert sum(fakes.repo.budget.values()) == 0


@pytest.mark.parametrize(("status_code", "category"), [(400, "gmi_rejected"), (403, "gmi_unauthorized")])
def test_a_post_gmi_refuses_for_good_fails_the_job(fakes: Fakes, status_code: int, category: str) -> None:
    fakes.gmi.submit_answers.append(GmiPermanentError(f"GMI answered {status_code}", status_code=status_code))
    service, _ = _service(fakes, DAILY_SUBMISSION_CAP="5")
    result = service.submit_source(_upload(fakes))
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert job.failure is not None
    assert (job.status, job.failure.category) == (JobStatus.FAILED, category)
    assert sum(fakes.repo.budget.values()) == 0


def test_a_post_whose_fate_is_unknown_waits_for_an_operator(fakes: Fakes) -> None:
    fakes.gmi.submit_answers.append(GmiAmbiguousError("GMI did not answer the submission in time"))
    service, _ = _service(fakes)
    result = service.submit_source(_upload(fakes))
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    assert job.failure is not None
    assert result.outcome == SubmitOutcome.AMBIGUOUS
    # The first advice is the search that can never pay twice (issue 28, stumble 7); a retry only after it.
    assert f"`i2v reconcile {job.job_id}` searches now (`i2v retry` only if it is not there)" in job.failure.message
    assert "SubmitAmbiguous" in fakes.metrics.names()
    assert fakes.workflow.started == {}


def test_a_failure_whose_event_was_lost_is_announced_on_the_next_delivery(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    fakes.images.add(BUCKET, source.key, b"")
    fakes.publisher.refusals.append(TransientError("EventBridge refused"))
    with pytest.raises(TransientError):
        service.submit_source(source)
    assert fakes.publisher.events == []

    again = service.submit_source(source)

    assert again.outcome == SubmitOutcome.DUPLICATE
    assert fakes.publisher.detail_types() == [DetailType.FAILED]
    job = fakes.repo.get(job_id_for(source))
    assert job is not None
    assert job.announced == JobStatus.REJECTED


def test_a_deferred_job_coming_back_is_submitted(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    source = _upload(fakes)
    _put(fakes, job_id_for(source), JobStatus.DEFERRED)
    result = service.resume_job(job_id_for(source))
    assert result.outcome == SubmitOutcome.SUBMITTED


def test_resuming_a_job_that_does_not_exist_is_an_internal_failure(fakes: Fakes) -> None:
    service, _ = _service(fakes)
    with pytest.raises(JobFailedError):
        service.resume_job("0" * 32)
