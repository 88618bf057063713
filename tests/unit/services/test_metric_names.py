"""Every name in i2v.domain.metric_names.MetricName is emitted by some service branch, so the alarms and the
dashboard that monitoring.py builds from these names (tests/infrastructure: only from these) watch real data."""

from __future__ import annotations

import contextlib
import random

import pytest
import requests
import responses

from i2v.adapters.video_source import VideoSource
from i2v.config import CompleteEnv
from i2v.domain.gmi_answers import GmiAmbiguousError, GmiRequest, GmiRetryableError
from i2v.domain.jobs import Failure, FailureCategory, JobFailedError, JobStatus
from i2v.domain.metric_names import MetricName
from i2v.domain.polling import PollPolicy
from i2v.domain.record import JobRecord, SourceRef
from i2v.domain.source import SourceObject
from i2v.domain.workflow import PollState
from i2v.services.complete import CompleteService
from i2v.services.failure import FailureService
from i2v.services.metrics import JOBS_ENDED, failure_metric
from i2v.services.poll import PollService
from i2v.services.submit import SubmitService
from i2v.services.submit_gate import SubmitGate
from support.fakes import FakePace, Fakes
from support.submit_service import submit_env, submit_service

VIDEO_URL = "https://storage.googleapis.com/bucket/video.mp4"  # what FakeGmi answers by default
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100  # only a video's bytes are stored
ENV = {"JOBS_TABLE_NAME": "jobs", "EVENT_BUS_NAME": "bus", "GMI_API_KEY_SECRET_ID": "s", "OUTPUT_BUCKET": "out"}


def _submit(fakes: Fakes, **env: str) -> SubmitService:
    return submit_service(fakes, env=submit_env(DEFAULT_SETTINGS='{"prompt": "p"}', **env), rng=random.Random(1))


def _upload(fakes: Fakes, key: str, sequencer: str = "0A", version: str = "v1") -> SourceObject:
    fakes.images.add("in", key)
    return SourceObject(bucket="in", key=key, version_id=version, etag="e", sequencer=sequencer, size=72)


def _emitted_by_every_branch() -> set[str]:
    fakes = Fakes()
    submit = _submit(fakes, DAILY_SUBMISSION_CAP="4", BUDGET_EXCEEDED_ACTION="defer")
    fakes.gmi.submit_answers.append(GmiRetryableError("GMI answered 429", status_code=429, retry_after=0))
    done = submit.submit_source(_upload(fakes, "incoming/ok.png", sequencer="0B"))  # a retry, then submitted
    submit.submit_source(_upload(fakes, "incoming/ok.png", sequencer="0B"))  # a duplicate
    submit.submit_source(_upload(fakes, "incoming/ok.png", sequencer="0A", version="v0"))  # superseded
    fakes.gmi.submit_answers.append(GmiAmbiguousError("GMI did not answer in time"))
    submit.submit_source(_upload(fakes, "incoming/unclear.png"))  # ambiguous
    empty = _upload(fakes, "incoming/empty.png")
    fakes.images.add("in", empty.key, b"")
    submit.submit_source(empty)  # rejected (an empty image takes no budget)

    state = PollState.model_validate(fakes.workflow.started[f"{done.job_id}-1"])
    fakes.gmi.get_answers.append(GmiRetryableError("GMI status check failed"))
    PollService(repo=fakes.repo, gmi=fakes.gmi, policy=PollPolicy(), metrics=fakes.metrics).poll_once(state)

    fakes.gmi.submit_answers.append(GmiRetryableError("GMI answered 503", status_code=503))
    submit.submit_source(_upload(fakes, "incoming/parked.png"))  # parked until GMI's list has settled (issue 24)
    paced = _submit(fakes)
    paced.gate = SubmitGate(pace=FakePace(next_free_at=1e12), rate_per_minute=60)
    paced.submit_source(_upload(fakes, "incoming/paced.png"))  # over the pace: waits its turn

    failure = FailureService(repo=fakes.repo, publisher=fakes.publisher, metrics=fakes.metrics)
    for category in (FailureCategory.GMI_FAILED, FailureCategory.TIMED_OUT):
        other = submit.submit_source(_upload(fakes, f"incoming/{category}.png"))
        failure.record(str(other.job_id), Failure(category=category, message="ended"))
    submit.submit_source(_upload(fakes, "incoming/late.png"))  # over the cap of 4: deferred
    return set(fakes.metrics.names())


def _completed() -> set[str]:
    """Complete's metrics: one job's video stored (the video host mocked with responses)."""
    fakes = Fakes()
    job = fakes.repo.put(
        JobRecord(
            job_id="c" * 32,
            status=JobStatus.PROCESSING,
            source=SourceRef(bucket="in", key="incoming/k.png"),
            model="m",
            request_id="req-1",
            created_at="2026-01-01T00:00:00.000Z",
            updated_at="2026-01-01T00:00:00.000Z",
        )
    )
    env = CompleteEnv.model_validate(
        {**ENV, "VIDEO_HOST_ALLOWLIST": "storage.googleapis.com", "ALLOW_PRIVATE_VIDEO_ADDRESSES": "true"}
    )
    service = CompleteService(
        options=env.options(),
        repo=fakes.repo,
        gmi=fakes.gmi,
        store=fakes.videos,
        publisher=fakes.publisher,
        videos=VideoSource(env.allowed_hosts, env.allow_private_video_addresses, requests.Session()),
        metrics=fakes.metrics,
    )
    with responses.RequestsMock() as video_host:
        video_host.get(VIDEO_URL, body=MP4, content_type="video/mp4", headers={"Content-Length": str(len(MP4))})
        service.complete(job.job_id, "req-1")
    return set(fakes.metrics.names())


def _answers() -> set[str]:
    """An unknown status, junk bytes, a poster that fails, and ambiguous jobs found and not found at GMI."""
    from unit.services import test_answers_services as answers

    fakes = Fakes()
    fakes.gmi.get_answers.append(GmiRequest(request_id="req-1", status="paused"))
    answers._poll_service(fakes).poll_once(answers._poll_state("queued"))
    for outcome, body in (
        ({"video_url": VIDEO_URL}, b"<html>not a video</html>"),
        ({"video_url": VIDEO_URL, "thumbnail_image_url": VIDEO_URL + ".jpg"}, MP4),
    ):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as hosts:
            hosts.get(VIDEO_URL, body=body, content_type="video/mp4", headers={"Content-Length": str(len(body))})
            hosts.get(VIDEO_URL + ".jpg", status=404)
            with contextlib.suppress(JobFailedError):
                answers._complete(fakes, outcome).complete(answers.JOB_ID, "req-1")
    for listed in ([], [answers._listed("ours", answers.IMAGE, answers.NOW - 198)]):
        answers._ambiguous_job(fakes)
        fakes.gmi.listed = listed
        answers._reconciler(fakes, []).reconcile(answers.JOB_ID)
    return set(fakes.metrics.names())


def _swept() -> set[str]:
    """The sweeper's three actions: a forgotten received job, an ambiguous one never looked up, an execution
    that ended with nothing recorded."""
    from i2v.domain.sweep import Execution
    from i2v.services.reconcile import SETTLE_SECONDS
    from unit.services import test_sweeper_service as sweeping

    fakes, executions = Fakes(), sweeping.FakeExecutions()
    sweeping._job(fakes, "received", JobStatus.RECEIVED, age=sweeping.WINDOWS.submit_message_seconds + 1)
    sweeping._job(fakes, "ambiguous", JobStatus.SUBMIT_AMBIGUOUS, age=SETTLE_SECONDS + 61)
    sweeping._job(fakes, sweeping.ENDED, JobStatus.PROCESSING, age=3600)
    executions.executions[f"{sweeping.ENDED}-1"] = Execution("ABORTED", stopped_at=sweeping.NOW - 3600)
    sweeping._sweeper(fakes, executions).sweep()
    return set(fakes.metrics.names())


def _spent() -> set[str]:
    """The day's spend of a dollar budget (a metric of its own, with the budget as a dimension)."""
    fakes = Fakes()
    prices = '{"pixverse-v5.5-i2v": {"unit": "video", "rates": [{"usd": 0.5}]}}'
    _submit(fakes, DAILY_BUDGET_USD="10", GMI_PRICES=prices).submit_source(_upload(fakes, "incoming/paid.png"))
    return {MetricName.DAILY_SPEND_USD} if fakes.spend.reported == [("all", 0.5)] else set()


def _previews() -> set[str]:
    """The previews function: one video previewed, one that cannot be decoded."""
    from support.videos import make_mp4
    from unit.services import test_previews_service as previews

    fakes = Fakes()
    for body in (make_mp4(seconds=1.0, size=(64, 36)), b"not a video"):
        previews._job(fakes)
        previews._service(fakes, previews._stored(body)).make(previews.JOB_ID)
    return set(fakes.metrics.names())


@pytest.fixture(scope="module")
def emitted() -> set[str]:
    return _emitted_by_every_branch() | _completed() | _answers() | _swept() | _spent() | _previews()


@pytest.mark.parametrize("name", list(MetricName))
def test_every_metric_name_is_emitted(name: MetricName, emitted: set[str]) -> None:
    assert name in emitted


def test_ended_jobs_are_counted_by_status_and_failure_category(emitted: set[str]) -> None:
    assert set(JOBS_ENDED) == {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.TIMED_OUT,
        JobStatus.REJECTED,
        JobStatus.SUBMIT_AMBIGUOUS,
    }
    categories = ("empty_image", "submit_ambiguous", "gmi_failed", "timed_out", "budget")
    assert {failure_metric(category) for category in categories[:4]} <= emitted
    assert failure_metric(categories[4]) not in emitted  # deferred, not ended
