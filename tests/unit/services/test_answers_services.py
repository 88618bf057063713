"""The answers and reconciliation branches of the services, on fakes (milliseconds, no AWS, no HTTP server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from i2v.adapters.video_source import VideoSource
from i2v.config import CompleteEnv
from i2v.domain.gmi_answers import GmiRequest, GmiRetryableError
from i2v.domain.jobs import JobFailedError, JobStatus, TransientError
from i2v.domain.record import JobRecord, SourceRef, iso
from i2v.services import reconcile
from i2v.services.complete import CompleteService
from i2v.services.reconcile import Reconciler
from i2v_events.v1 import DetailType
from support.fakes import Fakes

JOB_ID = "d" * 32
NOW = 1_800_000_000.0
MODEL = "pixverse-v5.5-i2v"
IMAGE = "https://in.s3.example/incoming/pier.png"
VIDEO_URL = "https://storage.googleapis.com/bucket/video.mp4"
POSTER_URL = "https://storage.googleapis.com/bucket/still.jpg"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


def _ambiguous_job(fakes: Fakes, ambiguous_at: float = NOW - 200) -> None:
    from datetime import UTC, datetime

    fakes.repo.put(
        JobRecord(
            job_id=JOB_ID,
            status=JobStatus.SUBMIT_AMBIGUOUS,
            source=SourceRef(bucket="in", key="incoming/pier.png", version_id="v1"),
            model=MODEL,
            timestamps={"submit_ambiguous": iso(datetime.fromtimestamp(ambiguous_at, UTC))},
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
            failure={"category": "submit_ambiguous", "message": "GMI answered 500"},
            submit_started_at=ambiguous_at - 5,
            submit_lease_until=ambiguous_at + 100,
        )
    )
    fakes.images.add("in", "incoming/pier.png")


def _reconciler(fakes: Fakes, continued: list[JobRecord]) -> Reconciler:
    return Reconciler(
        repo=fakes.repo,
        gmi=fakes.gmi,
        images=fakes.images,
        requeue=fakes.requeue,
        continue_submitted=continued.append,
        metrics=fakes.metrics,
        clock=lambda: NOW,
    )


def _listed(request_id: str, image_url: str, created_at: float, **payload: Any) -> GmiRequest:
    return GmiRequest(
        request_id=request_id,
        status="processing",
        model=MODEL,
        payload={"image_url": image_url, "prompt": "a pier", **payload},
        created_at=created_at,
    )


def test_found_by_image_address_and_time_continues_as_submitted(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    fakes.gmi.listed = [
        _listed("other-key", "https://in.s3.example/incoming/boat.png?X-Amz-Signature=1", NOW - 200),
        _listed("too-early", IMAGE + "?X-Amz-Signature=old", NOW - 2000),  # an earlier upload of the same key
        _listed("ours", IMAGE + "?X-Amz-Signature=different-signature", NOW - 198),
    ]
    continued: list[JobRecord] = []

    job = _reconciler(fakes, continued).reconcile(JOB_ID)

    assert job is not None
    assert (job.status, job.request_id, job.failure) == (JobStatus.SUBMITTED, "ours", None)
    assert "reconciled" in fakes.repo.get(JOB_ID).timestamps  # type: ignore[union-attr]
    assert [j.request_id for j in continued] == ["ours"]
    assert fakes.gmi.submitted == []  # no second POST
    assert fakes.gmi.list_calls == [MODEL]
    assert "SubmissionsReconciled" in fakes.metrics.names()


def test_not_found_after_settling_stays_ambiguous_with_the_message(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    fakes.gmi.listed = [_listed("other-key", "https://in.s3.example/incoming/boat.png", NOW - 198)]

    job = _reconciler(fakes, []).reconcile(JOB_ID)

    assert job is not None
    assert job.status == JobStatus.SUBMIT_AMBIGUOUS
    assert job.failure is not None
    assert job.failure.message.startswith("not in GMI's request list as of 20")
    assert "ReconcileNotFound" in fakes.metrics.names()


def test_a_look_before_the_list_has_settled_is_put_off(fakes: Fakes) -> None:
    _ambiguous_job(fakes, ambiguous_at=NOW - 30)
    job = _reconciler(fakes, []).reconcile(JOB_ID)
    assert job is not None
    assert job.status == JobStatus.SUBMIT_AMBIGUOUS
    assert fakes.gmi.list_calls == []
    assert fakes.requeue.sent == [({"kind": "reconcile", "job_id": JOB_ID}, reconcile.SETTLE_SECONDS - 30)]


def test_on_demand_looks_at_once_and_says_not_found(fakes: Fakes) -> None:
    _ambiguous_job(fakes, ambiguous_at=NOW - 30)
    job = _reconciler(fakes, []).reconcile(JOB_ID, now=True)
    assert fakes.gmi.list_calls == [MODEL]
    assert job is not None
    assert job.failure is not None
    assert "not in GMI's request list" in job.failure.message


def test_an_unavailable_list_is_retried_later(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    fakes.gmi.listed = GmiRetryableError("GMI answered 503", status_code=503)
    with pytest.raises(TransientError):
        _reconciler(fakes, []).reconcile(JOB_ID)


def test_a_job_no_longer_ambiguous_is_left_alone(fakes: Fakes) -> None:
    _ambiguous_job(fakes)
    fakes.repo.transition(JOB_ID, JobStatus.RECEIVED)
    job = _reconciler(fakes, []).reconcile(JOB_ID, now=True)
    assert job is not None
    assert job.status == JobStatus.RECEIVED
    assert fakes.gmi.list_calls == []


# ---- complete: what is stored ------------------------------------------------------------------------------
@pytest.fixture
def hosts() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _complete(fakes: Fakes, outcome: Any) -> CompleteService:
    fakes.repo.put(
        JobRecord(
            job_id=JOB_ID,
            status=JobStatus.PROCESSING,
            source=SourceRef(bucket="in", key="incoming/pier.png"),
            model=MODEL,
            request_id="req-1",
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
        )
    )
    fakes.gmi.get_answers.append(GmiRequest(request_id="req-1", status="success", outcome=outcome))
    env = CompleteEnv.model_validate(
        {
            "JOBS_TABLE_NAME": "jobs",
            "EVENT_BUS_NAME": "bus",
            "GMI_API_KEY_SECRET_ID": "secret",
            "OUTPUT_BUCKET": "out",
            "VIDEO_HOST_ALLOWLIST": "storage.googleapis.com",
            "ALLOW_PRIVATE_VIDEO_ADDRESSES": "true",
        }
    )
    return CompleteService(
        options=env.options(),
        repo=fakes.repo,
        gmi=fakes.gmi,
        store=fakes.videos,
        publisher=fakes.publisher,
        videos=VideoSource(env.allowed_hosts, env.allow_private_video_addresses, requests.Session()),
        metrics=fakes.metrics,
    )


def _serve(hosts: responses.RequestsMock, url: str, body: bytes, content_type: str, status: int = 200) -> None:
    hosts.get(url, status=status, body=body, content_type=content_type, headers={"Content-Length": str(len(body))})


@pytest.mark.parametrize(
    "outcome",
    [{"media_urls": [{"id": "0", "url": VIDEO_URL}]}, [{"id": "0", "url": VIDEO_URL}]],
    ids=["media_urls", "bare-list"],
)
def test_a_video_given_only_in_media_urls_is_stored(fakes: Fakes, hosts: responses.RequestsMock, outcome: Any) -> None:
    _serve(hosts, VIDEO_URL, MP4, "video/mp4")
    assert _complete(fakes, outcome).complete(JOB_ID, "req-1")["status"] == JobStatus.SUCCEEDED
    assert list(fakes.videos.videos.values()) == [MP4]


def test_junk_bytes_are_refused_before_any_upload(fakes: Fakes, hosts: responses.RequestsMock) -> None:
    _serve(hosts, VIDEO_URL, b"<html>upstream error</html>" * 100, "video/mp4")
    with pytest.raises(JobFailedError) as failed:
        _complete(fakes, {"video_url": VIDEO_URL}).complete(JOB_ID, "req-1")
    assert failed.value.failure.category == "invalid_video"
    assert "starts with '<html>" in failed.value.failure.message
    assert fakes.videos.videos == {}
    assert "InvalidVideos" in fakes.metrics.names()


def test_a_distinct_thumbnail_is_stored_as_the_poster(fakes: Fakes, hosts: responses.RequestsMock) -> None:
    _serve(hosts, VIDEO_URL, MP4, "video/mp4")
    _serve(hosts, POSTER_URL, JPEG, "image/jpeg")
    _complete(fakes, {"video_url": VIDEO_URL, "thumbnail_image_url": POSTER_URL}).complete(JOB_ID, "req-1")
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.poster is not None
    assert job.output is not None
    assert job.poster.key == job.output.key.removesuffix(".mp4") + ".poster.jpg"
    assert fakes.videos.videos[("out", job.poster.key)] == JPEG
    (event,) = fakes.publisher.events
    assert event[0] == DetailType.SUCCEEDED
    assert event[1]["poster"]["key"] == job.poster.key


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [(404, b"gone", "text/plain"), (200, b"<html></html>", "image/jpeg"), (200, JPEG, "text/html")],
    ids=["missing", "not-an-image", "wrong-type"],
)
def test_a_poster_that_fails_never_fails_the_job(
    fakes: Fakes, hosts: responses.RequestsMock, status: int, body: bytes, content_type: str
) -> None:
    _serve(hosts, VIDEO_URL, MP4, "video/mp4")
    _serve(hosts, POSTER_URL, body, content_type, status=status)
    result = _complete(fakes, {"video_url": VIDEO_URL, "thumbnail_image_url": POSTER_URL}).complete(JOB_ID, "req-1")
    assert result["status"] == JobStatus.SUCCEEDED
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.poster is None
    assert "PostersFailed" in fakes.metrics.names()


def test_a_thumbnail_that_is_the_video_is_not_a_poster(fakes: Fakes, hosts: responses.RequestsMock) -> None:
    # Served as an image, so a poster attempt would succeed: only the "same object" check keeps it out.
    hosts.get(VIDEO_URL + "?sig=1", body=MP4, content_type="video/mp4", headers={"Content-Length": str(len(MP4))})
    hosts.get(VIDEO_URL + "?sig=2", body=JPEG, content_type="image/jpeg", headers={"Content-Length": str(len(JPEG))})
    outcome = {"video_url": VIDEO_URL + "?sig=1", "thumbnail_image_url": VIDEO_URL + "?sig=2"}
    _complete(fakes, outcome).complete(JOB_ID, "req-1")
    job = fakes.repo.get(JOB_ID)
    assert job is not None
    assert job.poster is None
    assert [call.request.url for call in hosts.calls] == [VIDEO_URL + "?sig=1"]  # no poster download at all
    assert len(fakes.videos.videos) == 1
    assert "PostersFailed" not in fakes.metrics.names()


# ---- poll: every status, and the unknown ones counted once -------------------------------------------------
def _poll_state(gmi_status: str | None) -> Any:
    from i2v.domain.workflow import ExecutionInput, PollResult, PollState

    first = ExecutionInput.first(
        job_id=JOB_ID, attempt=1, request_id="req-1", model=MODEL, time_class={"quality": "540p", "duration": "5"},
        submitted_at=NOW - 30, deadline_at=NOW + 1800, gmi_status="queued", expectation=None, first_wait_seconds=20,
    )  # fmt: skip
    return PollState.model_validate({**first.model_dump(), "poll": PollResult(gmi_status=gmi_status)})


def _poll_service(fakes: Fakes) -> Any:
    from i2v.domain.polling import PollPolicy
    from i2v.services.poll import PollService

    fakes.repo.put(
        JobRecord(
            job_id=JOB_ID, status=JobStatus.SUBMITTED, source=SourceRef(bucket="b", key="incoming/k.png"), model=MODEL,
            request_id="req-1", created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z",
        )
    )  # fmt: skip
    return PollService(repo=fakes.repo, gmi=fakes.gmi, policy=PollPolicy(), metrics=fakes.metrics, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("gmi_status", "recorded"),
    [("created", "queued"), ("queued", "queued"), ("dispatched", "processing"), ("processing", "processing")],
)
def test_waiting_statuses_are_recorded(fakes: Fakes, gmi_status: str, recorded: str) -> None:
    service = _poll_service(fakes)
    fakes.gmi.get_answers.append(GmiRequest(request_id="req-1", status=gmi_status))
    assert service.poll_once(_poll_state("queued")).outcome == "waiting"
    assert fakes.repo.get(JOB_ID).status == recorded  # type: ignore[union-attr]
    assert "UnknownGmiStatus" not in fakes.metrics.names()


@pytest.mark.parametrize(("gmi_status", "category"), [("cancelled", "gmi_cancelled"), ("canceled", "gmi_cancelled")])
def test_both_cancelled_spellings_end_the_job(fakes: Fakes, gmi_status: str, category: str) -> None:
    fakes.gmi.get_answers.append(GmiRequest(request_id="req-1", status=gmi_status))
    result = _poll_service(fakes).poll_once(_poll_state("processing"))
    assert result.outcome == "failed"
    assert result.failure is not None
    assert result.failure.category == category


def test_failure_reason_from_an_outcome_error_object(fakes: Fakes) -> None:
    outcome = {"error": {"code": "E7", "message": "content policy"}}
    fakes.gmi.get_answers.append(GmiRequest(request_id="req-1", status="failed", outcome=outcome))
    result = _poll_service(fakes).poll_once(_poll_state("processing"))
    assert result.failure is not None
    assert result.failure.message == "content policy (E7)"


def test_an_unknown_status_keeps_polling_and_is_counted_once_per_job(fakes: Fakes) -> None:
    service = _poll_service(fakes)
    fakes.gmi.get_answers.extend(GmiRequest(request_id="req-1", status="paused") for _ in range(3))
    first = service.poll_once(_poll_state("queued"))
    second = service.poll_once(_poll_state(first.gmi_status))
    third = service.poll_once(_poll_state(second.gmi_status))
    assert [r.outcome for r in (first, second, third)] == ["waiting"] * 3
    assert fakes.metrics.names().count("UnknownGmiStatus") == 1
