"""FailureService and the operator retry on fakes: a job's end is recorded once and announced at least once."""

from __future__ import annotations

import pytest

from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.record import JobRecord, SourceRef
from i2v.services.failure import FailureService
from i2v.services.retry import RetryRefusedError, retry_hint, retry_job
from i2v_events.v1 import DetailType
from support.fakes import Fakes

JOB_ID = "f" * 32


def _job(fakes: Fakes, status: JobStatus, **fields: object) -> None:
    fakes.repo.put(
        JobRecord.model_validate(
            {
                "job_id": JOB_ID,
                "status": status,
                "source": SourceRef(bucket="b", key="incoming/k.png"),
                "model": "m",
                "request_id": "req-1",
                "created_at": "2026-01-01T00:00:00.000Z",
                "updated_at": "2026-01-01T00:00:00.000Z",
                **fields,
            }
        )
    )


def _service(fakes: Fakes) -> FailureService:
    return FailureService(repo=fakes.repo, publisher=fakes.publisher, metrics=fakes.metrics)


@pytest.mark.parametrize(
    ("category", "status"),
    [(FailureCategory.GMI_FAILED, JobStatus.FAILED), (FailureCategory.TIMED_OUT, JobStatus.TIMED_OUT)],
)
def test_a_failure_is_recorded_announced_and_counted(
    fakes: Fakes, category: FailureCategory, status: JobStatus
) -> None:
    _job(fakes, JobStatus.PROCESSING)
    assert _service(fakes).record(JOB_ID, Failure(category=category, message="boom")) == status
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.failure is not None
    assert (job.status, job.failure.category, job.announced) == (status, category, status)
    assert fakes.publisher.detail_types() == [DetailType.FAILED]
    assert f"Failure_{category}" in fakes.metrics.names()


def test_the_recorded_message_is_redacted(fakes: Fakes) -> None:
    _job(fakes, JobStatus.PROCESSING)
    url = "https://s3.example/k.png?X-Amz-Signature=0123456789abcdef&X-Amz-Credential=AKIAEXAMPLE"
    _service(fakes).record(JOB_ID, Failure(category=FailureCategory.IMAGE_UNREACHABLE, message=f"refused {url}"))
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.failure is not None
    assert "0123456789abcdef" not in job.failure.message


def test_a_succeeded_job_is_never_overwritten(fakes: Fakes) -> None:
    _job(fakes, JobStatus.SUCCEEDED)
    status = _service(fakes).record(JOB_ID, Failure(category=FailureCategory.WORKFLOW_ERROR, message="late"))
    assert status == JobStatus.SUCCEEDED
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.failure is None
    assert fakes.publisher.events == []


def test_a_retry_of_the_same_recording_announces_again(fakes: Fakes) -> None:
    _job(fakes, JobStatus.FAILED, failure={"category": "gmi_failed", "message": "boom"})
    _service(fakes).record(JOB_ID, Failure(category=FailureCategory.GMI_FAILED, message="boom"))
    assert fakes.publisher.detail_types() == [DetailType.FAILED]


def test_a_different_failure_of_an_ended_job_is_not_announced(fakes: Fakes) -> None:
    _job(fakes, JobStatus.FAILED, failure={"category": "gmi_failed", "message": "boom"})
    _service(fakes).record(JOB_ID, Failure(category=FailureCategory.WORKFLOW_ERROR, message="other"))
    assert fakes.publisher.events == []


def test_an_operator_retry_starts_a_new_attempt(fakes: Fakes) -> None:
    _job(fakes, JobStatus.FAILED, failure={"category": "gmi_failed", "message": "boom"}, execution_name="x-1")
    job = retry_job(fakes.repo, fakes.requeue, JOB_ID, confirm_ambiguous=False)
    assert (job.status, job.attempt, job.failure, job.execution_name) == (JobStatus.RECEIVED, 2, None, None)
    assert fakes.requeue.sent == [({"kind": "retry", "job_id": JOB_ID}, 0)]


def test_retrying_an_ambiguous_submission_needs_a_confirmation(fakes: Fakes) -> None:
    _job(fakes, JobStatus.SUBMIT_AMBIGUOUS)
    with pytest.raises(RetryRefusedError, match="billed"):
        retry_job(fakes.repo, fakes.requeue, JOB_ID, confirm_ambiguous=False)
    assert retry_job(fakes.repo, fakes.requeue, JOB_ID, confirm_ambiguous=True).attempt == 2


def test_a_running_job_cannot_be_retried(fakes: Fakes) -> None:
    _job(fakes, JobStatus.PROCESSING)
    with pytest.raises(RetryRefusedError) as refused:
        retry_job(fakes.repo, fakes.requeue, JOB_ID, confirm_ambiguous=False)
    assert fakes.requeue.sent == []
    # Plain words, never enum reprs (issue 28, stumble 6).
    assert str(refused.value).endswith(
        "is processing; only failed, rejected, submit_ambiguous, timed_out jobs can be retried"
    )


@pytest.mark.parametrize(
    ("category", "hinted"),
    [("invalid_settings", True), ("empty_image", True), ("budget", False), ("gmi_failed", False)],
)
def test_a_retry_that_reads_the_same_upload_again_says_so(fakes: Fakes, category: str, hinted: bool) -> None:
    _job(fakes, JobStatus.REJECTED, failure={"category": category, "message": "no"})
    hint = retry_hint(fakes.repo.get(JOB_ID))
    assert (hint is not None) == hinted
    if hint:
        assert f"rejected as {category}" in hint
        assert "upload it again" in hint


def test_a_retry_after_a_rejected_sidecar_says_to_fix_the_sidecar_first(fakes: Fakes) -> None:
    message = "settings sidecar 'incoming/cat.json' is not valid JSON (Expecting value at line 1 column 1)"
    _job(fakes, JobStatus.REJECTED, failure={"category": "invalid_settings", "message": message})
    hint = retry_hint(fakes.repo.get(JOB_ID))
    assert hint is not None
    assert "a retry reads the sidecar again, so fix it first" in hint
