"""Scenarios 14 and 18-22: the Complete step (stream the video into S3, record, announce) of the real
synthesized state machine, run by moto's Step Functions interpreter with the real handlers, against the
GMI simulator's faults.

Already covered elsewhere (not repeated here): a truncated download retried once by the state machine
(tests/workflow/test_workflow.py::test_truncated_download_is_retried_by_the_state_machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from i2v.adapters.aws import client
from i2v.adapters.repository import JobRepository
from i2v.domain.jobs import JobStatus
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.workflow_helpers import (
    FAILED,
    SUCCEEDED,
    ConnectionTrap,
    ProcessRun,
    count_s3_calls,
    fast_state_machine_retries,
    objects_under,
    on_calls,
    open_multipart_uploads,
    results_of,
    route_to_subprocess,
    video_requests,
    videos_under,
)

pytestmark = pytest.mark.xdist_group(__name__)

MIB = 1024 * 1024


@pytest.fixture
def fast_retries() -> Iterator[None]:
    with fast_state_machine_retries():
        yield


def _failed_with(pipeline: PipelineDriver, job_id: str, category: str) -> str:
    job = pipeline.job(job_id)
    assert job.status == "failed", job
    assert job.failure is not None
    assert job.failure.category == category, job.failure
    assert job.output is None
    return job.failure.message


# ---- 14: success without a usable video URL ---------------------------------------------------------------
@pytest.mark.parametrize("shape", ["missing", "null", "empty", "blank_url"])
def test_s14_success_without_video_url_fails_missing_video_url(
    shape: str, pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload(
        f"incoming/s14/{shape}.png", prompt=f"no video [sim:success_without_outcome shape={shape}]"
    )

    local_stack.run_until_idle(timeout=30)

    _failed_with(pipeline, job_id, "missing_video_url")
    assert len(results_of(local_stack, "Complete")) == 1  # not retried: asking again cannot help
    assert video_requests(local_gmi) == []
    assert objects_under(local_stack, pipeline.output_bucket) == []
    assert [e["detail"]["status"] for e in tap.wait_for(FAILED)] == ["failed"]


def test_s14_plain_http_video_url_is_rejected_unfetched(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    job_id = pipeline.upload("incoming/s14/http.png", prompt="cleartext [sim:video_url_http]")

    local_stack.run_until_idle(timeout=30)

    message = _failed_with(pipeline, job_id, "video_url_rejected")
    assert "https" in message
    assert len(results_of(local_stack, "Complete")) == 1
    assert video_requests(local_gmi) == []
    assert objects_under(local_stack, pipeline.output_bucket) == []


def test_s14_video_url_on_a_host_off_the_allow_list_is_never_requested(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    with ConnectionTrap() as foreign:
        job_id = pipeline.upload(
            "incoming/s14/foreign.png", prompt=f"elsewhere [sim:video_url_foreign_host host={foreign.netloc}]"
        )
        local_stack.run_until_idle(timeout=30)

    message = _failed_with(pipeline, job_id, "video_url_rejected")
    assert "allow-list" in message
    assert foreign.connections == 0
    assert video_requests(local_gmi) == []
    assert objects_under(local_stack, pipeline.output_bucket) == []


def test_s14_redirect_to_a_private_address_is_not_followed(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    """The simulator's default target is http://10.0.0.1/...: refused before any connection."""
    job_id = pipeline.upload("incoming/s14/redirect.png", prompt="moved [sim:video_redirect_private]")

    local_stack.run_until_idle(timeout=30)

    _failed_with(pipeline, job_id, "video_url_rejected")
    (hop,) = video_requests(local_gmi)  # the signed URL itself, answering 302; nothing after it
    assert (hop.status, hop.fault) == (302, "video_redirect_private")
    assert objects_under(local_stack, pipeline.output_bucket) == []


class _Resolver:
    """getaddrinfo as the video-URL check sees it: the simulator looks public, the trap host internal."""

    def __init__(self, names: dict[str, str]) -> None:
        import socket

        self._socket = socket
        self.names = names
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socket, name)

    def getaddrinfo(self, host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(host)
        address = self.names[host]
        return [(self._socket.AF_INET, self._socket.SOCK_STREAM, 6, "", (address, port))]


def test_s14_redirect_to_an_allowed_host_with_a_private_address_is_not_followed(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production settings for the check (ALLOW_PRIVATE_VIDEO_ADDRESSES=false): a redirect to a host on the
    allow-list that resolves to an internal address (DNS rebinding, SSRF) is refused before connecting."""
    with ConnectionTrap() as internal:
        stack = local_stack_factory(
            environment={"ALLOW_PRIVATE_VIDEO_ADDRESSES": "false", "VIDEO_HOST_ALLOWLIST": f"127.0.0.1,{internal.host}"}
        )
        pipeline = PipelineDriver(stack)
        from i2v.adapters import video_source

        resolver = _Resolver({"127.0.0.1": "127.0.0.1", internal.host: "10.0.0.1"})
        monkeypatch.setattr(video_source, "socket", resolver)
        # The simulator stands for a public host (the download connects to the very address that was vetted).
        public = video_source.is_public_address
        monkeypatch.setattr(
            video_source, "is_public_address", lambda address: address == "127.0.0.1" or public(address)
        )
        target = f"https://{internal.netloc}/videos/stolen.mp4"
        job_id = pipeline.upload(
            "incoming/s14/rebind.png", prompt=f"moved [sim:video_redirect_private target={target}]"
        )
        stack.run_until_idle(timeout=30)

    message = _failed_with(pipeline, job_id, "video_url_rejected")
    assert "non-public" in message
    assert resolver.asked == ["127.0.0.1", internal.host]  # checked the first URL, then the redirect
    assert internal.connections == 0
    (hop,) = video_requests(local_gmi)
    assert hop.status == 302
    assert objects_under(stack, pipeline.output_bucket) == []


# ---- 18: the download breaks mid-body -------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["video_reset fraction=0.7 delay=0.2", "video_truncated fraction=0.7"])
def test_s18_broken_download_leaves_no_partial_object_and_is_retried(
    fault: str, pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, fast_retries: None
) -> None:
    """A 20 MiB video (three 8 MiB parts): the first attempt breaks after a multipart upload began."""
    sim = local_gmi
    calls = count_s3_calls()
    after_first: dict[str, Any] = {}

    def break_download(event: dict[str, Any]) -> None:
        sim.set_job_faults(event["request_id"], fault)

    def inspect_and_heal(event: dict[str, Any], result: Any) -> None:
        sim.job(event["request_id"]).faults.pop(fault.split(maxsplit=1)[0])
        after_first["result"] = result
        after_first["objects"] = objects_under(local_stack, pipeline.output_bucket)
        after_first["uploads"] = open_multipart_uploads(local_stack, pipeline.output_bucket)
        after_first["calls"] = dict(calls.counts)

    on_calls(local_stack, "Complete", before=break_download, after=inspect_and_heal)
    job_id = pipeline.upload("incoming/s18/big.png", prompt=f"twenty MiB [sim:video_size bytes={20 * MIB}]")

    local_stack.run_until_idle(timeout=60)

    first = after_first["result"]
    assert first.error
    assert first.payload["errorType"] == "VideoNotStoredError"  # a TransientError the store loop catches
    assert "download_failed" in first.payload["errorMessage"]
    # Nothing half-written: no object at the key, the multipart upload that had started was aborted.
    assert after_first["calls"].get("CreateMultipartUpload") == 1
    assert after_first["calls"].get("AbortMultipartUpload") == 1
    assert after_first["calls"].get("CompleteMultipartUpload", 0) == 0
    assert after_first["objects"] == []
    assert after_first["uploads"] == []
    # The state machine retried Complete and the second copy went through whole.
    assert [r.error for r in results_of(local_stack, "Complete")] == [True, False]
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    assert job.output.size == 20 * MIB
    (stored,) = objects_under(local_stack, pipeline.output_bucket)
    assert (stored["Key"], stored["Size"]) == (job.output.key, 20 * MIB)
    assert open_multipart_uploads(local_stack, pipeline.output_bucket) == []
    assert calls["CompleteMultipartUpload"] == 1
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"


# ---- 19: the video URL has expired ----------------------------------------------------------------------
def test_s19_expired_video_url_is_fetched_again_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    job_id = pipeline.upload("incoming/s19/once.png", prompt="expires [sim:video_403 scope=once]")

    local_stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.request_id is not None
    assert [(e.status, e.fault) for e in video_requests(local_gmi, job.request_id)] == [
        (403, "video_403"),
        (200, None),
    ]
    assert [r.error for r in results_of(local_stack, "Complete")] == [False]  # handled inside one attempt
    assert len(videos_under(local_stack, pipeline.output_bucket)) == 1


def test_s19_video_url_that_stays_forbidden_fails_artifact_expired(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/s19/always.png", prompt="gone [sim:video_403 scope=always]")

    local_stack.run_until_idle(timeout=30)

    message = _failed_with(pipeline, job_id, "artifact_expired")
    assert "403" in message
    assert "X-Goog-Signature=" not in message or "[REDACTED]" in message
    job = pipeline.job(job_id)
    assert job.request_id is not None
    # Exactly one fresh URL was asked for: two downloads, both refused; Complete not retried.
    assert [e.status for e in video_requests(local_gmi, job.request_id)] == [403, 403]
    assert len(results_of(local_stack, "Complete")) == 1
    assert objects_under(local_stack, pipeline.output_bucket) == []
    assert [e["detail"]["status"] for e in tap.wait_for(FAILED)] == ["failed"]


# ---- 20: a large video at flat memory ---------------------------------------------------------------------
LARGE = 192 * MIB


@pytest.mark.slow
def test_s20_large_video_completes_at_flat_memory(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    record_property: Callable[..., None],
) -> None:
    """The real state machine calls Complete, which runs cold in a fresh process (the completing process
    alone is measured: moto and the simulator live in this one). The 2 GiB figure is `make bench`'s."""
    runs: list[ProcessRun] = []
    route_to_subprocess(local_stack, "Complete", runs)
    job_id = pipeline.upload("incoming/s20/large.png", prompt=f"large [sim:video_size bytes={LARGE}]")

    local_stack.run_until_idle(timeout=300)

    (run,) = runs
    assert not run.error, run.payload
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    assert job.output.size == LARGE
    head = pipeline.s3.head_object(Bucket=job.output.bucket, Key=job.output.key)
    assert head["ContentLength"] == LARGE
    growth_mib = run.rss_growth / MIB
    record_property("video_mib", LARGE // MIB)
    record_property("complete_peak_rss_growth_mib", round(growth_mib, 1))
    record_property("complete_peak_from", run.peak_from)
    print(f"\n[s20] {LARGE // MIB} MiB video: peak RSS growth of the completing process {growth_mib:.1f} MiB")
    # Bounded by the part buffers (8 MiB x 6 in memory), not by the video: far below its size.
    assert run.rss_growth < LARGE / 2
    assert growth_mib < 96


# ---- 21: the record write fails after the upload -----------------------------------------------------------
def _throttled(operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeded"},
            "ResponseMetadata": {
                "HTTPStatusCode": 400,
                "HTTPHeaders": {},
                "HostId": "",
                "RequestId": "",
                "RetryAttempts": 0,
            },
        },
        operation,
    )


def test_s21_completion_retried_between_upload_and_record_write_is_consistent(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    monkeypatch: pytest.MonkeyPatch,
    fast_retries: None,
) -> None:
    """DynamoDB throttles the succeeded write (after boto3's own retries): the video is already in S3."""
    tap = local_stack.tap_events()
    calls = count_s3_calls()
    real_transition = JobRepository.transition
    refused: list[str] = []

    def transition(self: JobRepository, job_id: str, target: JobStatus, *args: Any, **kwargs: Any) -> Any:
        if target == JobStatus.SUCCEEDED and not refused:
            refused.append(job_id)
            raise _throttled("UpdateItem")
        return real_transition(self, job_id, target, *args, **kwargs)

    monkeypatch.setattr(JobRepository, "transition", transition)
    job_id = pipeline.upload("incoming/s21/twice.png")

    local_stack.run_until_idle(timeout=60)

    assert refused == [job_id]
    first, second = results_of(local_stack, "Complete")
    assert first.error
    assert first.payload["errorType"] == "TransientError", first.payload
    assert not second.error
    # The copy ran twice... (the other 2 PutObjects: the previews function's poster and animation, once)
    assert calls["PutObject"] + calls["CompleteMultipartUpload"] == 2 + 2
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    (stored,) = videos_under(local_stack, pipeline.output_bucket)  # ...into the same deterministic key
    assert (stored["Key"], stored["Size"]) == (job.output.key, job.output.size)
    assert "succeeded" in job.timestamps
    # At least once: one Succeeded event here (the first attempt never got as far as announcing).
    events = tap.wait_for(SUCCEEDED)
    assert len(events) >= 1
    assert {e["detail"]["job_id"] for e in events} == {job_id}
    assert {e["detail"]["output"]["key"] for e in events if "output" in e["detail"]} <= {job.output.key}
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    assert local_gmi.post_count == 1


# ---- 22: PutEvents partial failure --------------------------------------------------------------------------
def _refuse_put_events(monkeypatch: pytest.MonkeyPatch, detail_type: str, times: int | None) -> list[int]:
    """The handlers' events client answers FailedEntryCount=1 for the first `times` PutEvents of one detail
    type (None: always); everything else goes through."""
    events = client("events")
    real = events.put_events
    refused: list[int] = []

    def put_events(**kwargs: Any) -> dict[str, Any]:
        entries = kwargs["Entries"]
        if entries[0]["DetailType"] == detail_type and (times is None or len(refused) < times):
            refused.append(1)
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "simulated partial failure"}],
            }
        result: dict[str, Any] = real(**kwargs)
        return result

    monkeypatch.setattr(events, "put_events", put_events)
    return refused


def _quick_publisher_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("complete", "fail"):
        module = __import__(f"i2v.handlers.{name}", fromlist=["service"])
        monkeypatch.setattr(module.service().publisher, "_sleep", lambda _: None)


def test_s22_put_events_partial_failure_is_retried_by_the_publisher(
    pipeline: PipelineDriver, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    tap = local_stack.tap_events()
    refused = _refuse_put_events(monkeypatch, SUCCEEDED, times=1)
    job_id = pipeline.upload("incoming/s22/once.png")

    local_stack.run_until_idle(timeout=30)

    assert refused == [1]
    assert [r.error for r in results_of(local_stack, "Complete")] == [False]
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert pipeline.job(job_id).status == "succeeded"


def test_s22_put_events_refused_for_a_whole_attempt_is_retried_by_the_state_machine(
    pipeline: PipelineDriver, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, fast_retries: None
) -> None:
    tap = local_stack.tap_events()
    _quick_publisher_backoff(monkeypatch)
    refused = _refuse_put_events(monkeypatch, SUCCEEDED, times=4)  # every attempt of one invocation
    job_id = pipeline.upload("incoming/s22/attempt.png")

    local_stack.run_until_idle(timeout=30)

    assert len(refused) == 4
    first, second = results_of(local_stack, "Complete")
    assert first.error
    assert first.payload["errorType"] == "TransientError"  # the name the state machine retries
    assert "EventBridge refused" in first.payload["errorMessage"]
    assert not second.error  # the retry finds the job succeeded and announces it again
    (event,) = tap.wait_for(SUCCEEDED)
    assert event["detail"]["job_id"] == job_id
    assert pipeline.job(job_id).status == "succeeded"
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"


def test_s22_failed_event_refused_for_a_whole_attempt_is_retried_by_the_state_machine(
    pipeline: PipelineDriver, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, fast_retries: None
) -> None:
    tap = local_stack.tap_events()
    _quick_publisher_backoff(monkeypatch)
    refused = _refuse_put_events(monkeypatch, FAILED, times=4)
    job_id = pipeline.upload("incoming/s22/failed.png", prompt="breaks [sim:fail message=no-gpu]")

    local_stack.run_until_idle(timeout=30)

    assert len(refused) == 4
    first, second = results_of(local_stack, "FailFunction")
    assert first.error
    assert first.payload["errorType"] == "TransientError"  # the name the state machine retries
    assert "EventBridge refused" in first.payload["errorMessage"]
    assert not second.error
    (event,) = tap.wait_for(FAILED)
    assert event["detail"]["job_id"] == job_id
    assert event["detail"]["status"] == "failed"
    assert pipeline.job(job_id).status == "failed"


def test_s22_put_events_that_never_recovers_fails_the_execution_loudly(
    pipeline: PipelineDriver, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, fast_retries: None
) -> None:
    """The bus keeps refusing: the job is succeeded (the video is stored), but the execution must not end
    quietly as if the announcement had gone out: it fails, which the ExecutionsFailed alarm reports."""
    tap = local_stack.tap_events()
    _quick_publisher_backoff(monkeypatch)
    refused = _refuse_put_events(monkeypatch, SUCCEEDED, times=None)
    job_id = pipeline.upload("incoming/s22/never.png")

    local_stack.run_until_idle(timeout=60)

    completes = results_of(local_stack, "Complete")
    assert len(completes) == 1 + 5  # the first attempt and the synthesized Retry's MaxAttempts (5) retries
    assert all(r.error and r.payload["errorType"] == "TransientError" for r in completes)
    assert len(refused) == len(completes) * 4  # the publisher's own attempts, each invocation
    (record_failure, *_) = results_of(local_stack, "FailFunction")
    assert record_failure.error
    assert record_failure.payload["errorType"] == "AnnouncementLostError"
    assert pipeline.job(job_id).status == "succeeded"
    (execution,) = pipeline.executions()
    assert execution["status"] == "FAILED"
    assert local_stack.watcher is not None
    assert execution["executionArn"] in {
        e["resources"][0] for e in local_stack.watcher.delivered if e["detail"]["status"] == "FAILED"
    }
    assert tap.of_type(SUCCEEDED) == []
