"""Scenarios 9, 10 and 11: what GMI answers decides what happens next.

9.  429 + Retry-After: wait that long, POST again, one job; the submission concurrency cap holds.
10. 400/401/403/404: no retry; the record and the Failed event carry GMI's message, redacted.
11. POST 503: the job is parked until GMI's request list has settled, then every page of it is read before
    sending again (a 503 may follow a created job); found, the
    job goes on with it, else it is POSTed again. POST 500, a timeout or a broken answer after sending: GMI may have created
    the job, so `submit_ambiguous` with exactly one POST. GET errors: retried with backoff (the watch
    function's next look, a delayed message later; in the fallback loop inside the poll invocation or through
    the Wait state), the job goes on (one GET 503 is also in
    tests/workflow/test_workflow.py::test_status_check_error_is_retried_by_the_poll_loop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import moto.sqs.models
import pytest

from i2v.adapters.gmi import GmiClient
from i2v.domain.gmi_answers import GmiRetryableError
from i2v.domain.polling import PollPolicy, error_backoff_seconds
from i2v.services import reconcile as reconcile_service
from i2v.services import submission as submit_service
from i2v_local.simulator import API_PREFIX, GmiSimulator, LogEntry
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import (
    FAILED,
    SUBMITTED,
    dead_letters,
    handled,
    posts,
    queue_counts,
    submit_module,
)
from support.breaker import fresh_breaker_counters
from support.watch_queue import event_source_mapping, move_watch_clock, submit_pump

pytestmark = pytest.mark.xdist_group(__name__)

WRONG_API_KEY = "sk-i2v-scenario-WRONG-KEY-CANARY-93ab"


def list_looks(sim: GmiSimulator) -> list[LogEntry]:
    """Every read of GMI's request list (`GET /requests?model_id=`; the log keeps no query)."""
    return [entry for entry in sim.requests_log if entry.method == "GET" and entry.path == API_PREFIX]


# ---- 9: 429 with Retry-After --------------------------------------------------------------------------------
def test_s09_429_waits_for_retry_after_then_posts_once_more(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    local_gmi.inject("post_429", count=1, retry_after=1)
    job_id = pipeline.upload("incoming/busy/one.png")

    local_stack.run_until_idle(timeout=30)

    refused, accepted = posts(local_gmi)
    assert (refused.status, refused.fault, accepted.status) == (429, "post_429", 200)
    assert accepted.at - refused.at >= 1.0  # Retry-After honoured (plus jitter)
    assert local_gmi.post_count == 1
    assert pipeline.job(job_id).status == "succeeded"
    assert handled(leak_guard.json_lines(), job_id) == ["submitted"]  # within the same invocation
    assert leak_guard.metric_values("SubmitRetries") == [1.0]


def test_s09_429_that_outlasts_the_invocation_parks_the_job_and_a_delayed_message_brings_it_back(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused (provably nothing created) more often than one invocation can wait for: the job is parked
    `deferred` (gmi_unavailable) on a fresh delayed message, not handed to SQS's receive count (issue 11)."""
    fresh_breaker_counters()  # fewer refusals than the breaker's threshold: it stays closed
    slept: list[float] = []
    monkeypatch.setattr(submit_module().service(), "sleep", slept.append)  # the waits are recorded, not slept
    local_gmi.inject("post_429", count=submit_service.POST_ATTEMPTS, retry_after=7)
    job_id = pipeline.upload("incoming/busy/long.png")

    local_stack.run_until_idle(timeout=30)

    assert len(slept) == submit_service.POST_ATTEMPTS - 1
    assert all(7 <= delay <= 8 for delay in slept), slept  # Retry-After plus at most 1 s of jitter
    job = pipeline.job(job_id)
    assert job.status == "deferred"
    assert job.failure is not None
    assert job.failure.category == "gmi_unavailable"
    assert job.unavailable_looks == 1
    assert queue_counts(local_stack)["delayed"] == 1
    assert dead_letters(local_stack) == []

    # The delayed message comes back (SQS's clock moved on, and the watch function's with it) and the job is
    # submitted once.
    real_millis = moto.sqs.models.unix_time_millis
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + 120_000)
    move_watch_clock(monkeypatch, lambda: time.time() + 120)
    local_stack.run_until_idle(timeout=30)

    statuses = [entry.status for entry in posts(local_gmi)]
    assert statuses == [429] * submit_service.POST_ATTEMPTS + [200]
    assert local_gmi.post_count == 1
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert "deferred" in job.timestamps  # parked (not failed) while GMI was busy
    assert job.failure is None
    assert len(pipeline.executions()) == 1


def test_s09_burst_with_429s_runs_submissions_in_parallel_up_to_the_concurrency_cap(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
    cdk_template: dict[str, Any],
) -> None:
    mapping = event_source_mapping(cdk_template, "Submit")
    cap = mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    # Batches overlap as with Lambda's many instances; the pump honours the mapping's MaximumConcurrency.
    # Messages stay hidden while their batch is held by the gauge (no redelivery to muddle the count).
    stack = local_stack_factory(parallel_invocations=True, pump_visibility_timeout=60)
    pipeline = PipelineDriver(stack)
    pump = submit_pump(stack)
    assert pump.source.max_concurrency == cap
    slept: list[float] = []
    monkeypatch.setattr(submit_module().service(), "sleep", slept.append)
    gauge = _Gauge()
    handler = submit_module().handler
    monkeypatch.setattr(submit_module(), "handler", gauge.wrap("invocations", handler, meet=cap))
    monkeypatch.setattr(GmiClient, "submit", gauge.wrap("posts", GmiClient.submit))
    local_gmi.inject("post_429", count=3, retry_after=1)
    # One full batch more than the cap lets run at once, and one poller more than the cap.
    uploads = pump.source.batch_size * (cap + 1)
    job_ids = [pipeline.upload(f"incoming/burst/{n}.png", png_bytes(shade=n)) for n in range(uploads)]

    pollers = [threading.Thread(target=stack.run_until_idle, kwargs={"timeout": 60}) for _ in range(cap + 1)]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join()
    stack.run_until_idle(timeout=30)

    seen = (gauge.peak, gauge.entered, slept)
    assert gauge.peak["invocations"] == cap, seen  # the batches did overlap, and never more than the cap of them
    assert 1 <= gauge.peak["posts"] <= cap, seen
    assert len(slept) == 3, seen
    assert local_gmi.post_count == len(job_ids)  # every image submitted exactly once
    assert {pipeline.job(job_id).status for job_id in job_ids} == {"succeeded"}


class _Gauge:
    """Counts how many calls of each wrapped function run at the same time.

    With `meet`, the first `meet` calls wait for each other (up to 10 s), then give one more call a moment
    to join them: so the peak reaches `meet` whenever that many can overlap, and exceeds it if more could.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.current: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.entered: dict[str, int] = {}

    def wrap(self, name: str, function: Callable[..., Any], meet: int = 0) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._changed:
                self.current[name] = self.current.get(name, 0) + 1
                self.peak[name] = max(self.peak.get(name, 0), self.current[name])
                self.entered[name] = self.entered.get(name, 0) + 1
                self._changed.notify_all()
                if self.entered[name] <= meet:
                    self._changed.wait_for(lambda: self.current[name] >= meet, timeout=10)
                    self._changed.wait_for(lambda: self.current[name] > meet, timeout=0.5)
            try:
                return function(*args, **kwargs)
            finally:
                with self._changed:
                    self.current[name] -= 1
                    self._changed.notify_all()

        return counted


# ---- 10: refusals ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "category", "expected"),
    [
        (400, "gmi_rejected", "GMI answered 400: model: unknown model 'pixverse-v9-i2v'"),
        (401, "gmi_unauthorized", "GMI answered 401: missing or invalid API key"),
        (403, "gmi_unauthorized", "GMI answered 403: the key [REDACTED] may not use this model"),
        (404, "gmi_not_found", "GMI answered 404: no route for image https://s3.example/img.png?[REDACTED]"),
    ],
    ids=["400", "401", "403", "404"],
)
def test_s10_refusal_is_not_retried_and_gmi_message_is_kept_redacted(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    scenario_api_key: str,
    leak_guard: Any,
    status: int,
    category: str,
    expected: str,
) -> None:
    if status == 400:  # a request our catalog accepts and GMI does not (the simulator shares the catalog)
        stack = local_stack_factory()
        local_gmi.inject("post_refused", count=1, status=400, message="model: unknown model 'pixverse-v9-i2v'")
    elif status == 401:  # the wrong key in Secrets Manager
        stack = local_stack_factory(api_key=WRONG_API_KEY)
    else:  # GMI echoes secrets back in its message: they must not reach the record or the event
        stack = local_stack_factory()
        echo = {
            403: f"the key {scenario_api_key} may not use this model",
            404: "no route for image https://s3.example/img.png?X-Amz-Signature=0badc0ffee0badc0ffee&X-Amz-Credential=AKIA",
        }[status]
        local_gmi.inject("post_refused", count=1, status=status, message=echo)
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    job_id = pipeline.upload(f"incoming/refused/{status}.png")

    stack.run_until_idle(timeout=30)

    assert [entry.status for entry in posts(local_gmi)] == [status]  # no retry
    job = pipeline.job(job_id)
    assert job.status == "failed"
    assert job.failure is not None
    assert job.failure.category == category
    assert job.failure.message.startswith(expected), job.failure.message
    (event,) = tap.of_type(FAILED)
    assert event["detail"]["failure"] == {"category": category, "message": job.failure.message}
    assert pipeline.executions() == []
    assert local_gmi.post_count == 0


# ---- 11: server errors and timeouts ---------------------------------------------------------------------------
def _after_the_settle_window(monkeypatch: pytest.MonkeyPatch, local_stack: LocalStack) -> None:
    """A 503 parks the job until GMI's list has settled (reconcile.SETTLE_SECONDS): move SQS's clock and the
    submit and watch functions' clocks past it, and let the parked job's delayed message come back."""
    later = reconcile_service.SETTLE_SECONDS + 60
    real_millis = moto.sqs.models.unix_time_millis
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *a: real_millis(*a) + later * 1000)
    monkeypatch.setattr(submit_module().service(), "clock", lambda: time.time() + later)
    move_watch_clock(monkeypatch, lambda: time.time() + later)
    local_stack.run_until_idle(timeout=60)


def test_s11_post_503_with_nothing_created_is_looked_for_then_sent_again(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = pipeline.upload("incoming/errors/503.png", prompt="a lighthouse [sim:post_503]")
    local_stack.run_until_idle(timeout=30)
    assert (pipeline.job(job_id).status, list_looks(local_gmi)) == ("deferred", [])  # parked until settled

    _after_the_settle_window(monkeypatch, local_stack)

    assert [(e.status, e.fault) for e in posts(local_gmi)] == [(503, "post_503"), (200, None)]
    assert len(list_looks(local_gmi)) == 1  # GMI's list was read before the second POST: not there
    assert local_gmi.post_count == 1
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert "reconciled" not in job.timestamps
    assert job.post_503_since is None  # the mark goes once GMI has taken the job


def test_s11_post_503_after_gmi_created_the_job_is_found_in_its_list_and_paid_once(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GMI answers 503 although it created the job (README, Guarantees). Once GMI's list has settled, before
    POSTing again, the submit function looks in it, finds the job and follows it: one GMI job, one payment."""
    tap = local_stack.tap_events()
    job_id = pipeline.upload("incoming/errors/503-after-accept.png", prompt="a harbour [sim:post_503_after_accept]")
    local_stack.run_until_idle(timeout=30)

    _after_the_settle_window(monkeypatch, local_stack)

    assert [(e.status, e.fault) for e in posts(local_gmi)] == [(503, "post_503_after_accept")]  # no second POST
    assert local_gmi.post_count == 1  # one GMI job for one image: paid once
    (gmi_job,) = local_gmi.jobs.values()
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.request_id == gmi_job.request_id
    assert "reconciled" in job.timestamps
    assert job.failure is None
    assert job.output is not None
    local_stack.client("s3").head_object(Bucket=job.output.bucket, Key=job.output.key)  # the video is stored
    assert leak_guard.metric_values("SubmissionsReconciled") == [1.0]
    assert len(tap.wait_for(SUBMITTED)) == 1
    assert len(pipeline.executions()) == 1


AMBIGUOUS_POSTS = {
    "post_500": "GMI answered 500",
    "post_500_after_accept": "GMI answered 500",
    "post_timeout_after_accept seconds=2": "GMI did not answer the submission in time",
    "post_drop": "connection lost after sending the request",
    "post_malformed_json": "GMI answered 200 with a body we could not read",
}


def test_s11_post_errors_that_may_have_created_a_job_are_ambiguous(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    stack = local_stack_factory(gmi_timeout_seconds=1)
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    job_ids = {
        fault: pipeline.upload(f"incoming/errors/{n}.png", png_bytes(shade=n), prompt=f"a pier [sim:{fault}]")
        for n, fault in enumerate(AMBIGUOUS_POSTS)
    }

    stack.run_until_idle(timeout=30)

    for fault, job_id in job_ids.items():
        job = pipeline.job(job_id)
        assert job.status == "submit_ambiguous", fault
        assert job.failure is not None
        assert job.failure.category == "submit_ambiguous"
        assert job.failure.message.startswith(AMBIGUOUS_POSTS[fault]), (fault, job.failure.message)
    # The hanging POST is logged when the simulator gives up on it, after the client did.
    stack.wait_until(lambda: len(posts(local_gmi)) >= len(AMBIGUOUS_POSTS), timeout=10)
    assert len(posts(local_gmi)) == len(AMBIGUOUS_POSTS)  # one POST each: never sent blindly again
    assert local_gmi.post_count == 3  # GMI really created (and would bill) three of them
    assert leak_guard.metric_values("SubmitAmbiguous") == [1.0] * len(AMBIGUOUS_POSTS)
    assert sorted(e["detail"]["job_id"] for e in tap.of_type(FAILED)) == sorted(job_ids.values())
    assert pipeline.executions() == []


GET_FAULTS = {
    "get_500": 1,
    "get_429 retry_after=1": 1,
    "get_drop": 1,
    "get_slow seconds=2": 1,  # longer than GMI_TIMEOUT_SECONDS=1: a read timeout
    "get_malformed_json": 1,
    "get_503 count=2": 2,
}


def test_s11_status_check_errors_are_retried_with_backoff_and_the_job_goes_on(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory(gmi_timeout_seconds=1)
    policy = PollPolicy.model_validate_json(stack.function_environment()["POLL_POLICY"])
    pipeline = PipelineDriver(stack)
    attempts: dict[str, list[tuple[float, bool]]] = {}  # request id -> (started at, answered)
    original_get = GmiClient.get

    def recorded_get(self: GmiClient, request_id: str) -> Any:
        started = time.monotonic()
        try:
            answer = original_get(self, request_id)
        except GmiRetryableError:
            attempts.setdefault(request_id, []).append((started, False))
            raise
        attempts.setdefault(request_id, []).append((started, True))
        return answer

    monkeypatch.setattr(GmiClient, "get", recorded_get)
    job_ids = {
        fault: pipeline.upload(f"incoming/get-errors/{n}.png", png_bytes(shade=n), prompt=f"a dune [sim:{fault}]")
        for n, fault in enumerate(GET_FAULTS)
    }

    stack.run_until_idle(timeout=60)

    for fault, job_id in job_ids.items():
        errors = GET_FAULTS[fault]
        job = pipeline.job(job_id)
        assert job.status == "succeeded", (fault, job.failure)
        assert job.request_id is not None
        tries = attempts[job.request_id]
        first_success = next(n for n, (_, answered) in enumerate(tries) if answered)
        assert [answered for _, answered in tries[: first_success + 1]] == [False] * errors + [True], fault
        # Each failed look is followed by a backoff (error_backoff_seconds, doubling) before the next one.
        for n in range(1, errors + 1):
            gap = tries[n][0] - tries[n - 1][0]
            assert gap >= error_backoff_seconds(n, policy) - 0.05, (fault, n, gap)
    assert local_gmi.post_count == len(GET_FAULTS)
    assert sum(leak_guard.metric_values("PollErrors")) == sum(GET_FAULTS.values())
