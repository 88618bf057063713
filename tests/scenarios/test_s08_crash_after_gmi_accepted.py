"""Scenario 8: the submit function dies after GMI accepted the POST. Never a blind second POST: the job becomes
`submit_ambiguous` (alarm metric SubmitAmbiguous, Failed event) and an operator's `i2v retry` resolves it.

Other variants: GMI's answer never arrives (post_timeout_after_accept) in
tests/cli/test_cli.py::test_retry_resolves_an_ambiguous_submission and in
test_s09_gmi_refusals_and_errors.py::test_s11_post_errors_that_may_have_created_a_job_are_ambiguous; a lost
StartExecution response in tests/workflow/test_workflow.py::test_start_execution_retried_after_a_lost_response_posts_once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from i2v.adapters.publisher import EventPublisher
from i2v.adapters.queue import SubmitQueue
from i2v.adapters.repository import JobRepository
from i2v.domain.jobs import JobStatus
from i2v.services.retry import RetryRefusedError, retry_job
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import FAILED, SUBMITTED, handled, posts, submit_module, submit_queue

pytestmark = pytest.mark.xdist_group(__name__)


class SimulatedCrashError(RuntimeError):
    """Stands for the process dying: nothing after this point of the invocation happens."""


def _visibility_timeout(stack: LocalStack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=submit_queue(stack), AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    return int(attributes["VisibilityTimeout"])


def test_s08_crash_before_the_request_id_is_stored_is_ambiguous_and_retry_resolves_it(
    local_stack_factory: Callable[..., LocalStack],
    cdk_template: dict[str, Any],
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = local_stack_factory()
    pipeline = PipelineDriver(stack)
    tap = leak_guard.watch(stack)
    crashed: list[str] = []
    transition = JobRepository.transition

    def crash_once_when_recording_the_answer(self: JobRepository, job_id: str, target: JobStatus, *a: Any, **k: Any):
        if target == JobStatus.SUBMITTED and not crashed:
            crashed.append(job_id)
            raise SimulatedCrashError("the submit function died right after GMI accepted the POST")
        return transition(self, job_id, target, *a, **k)

    monkeypatch.setattr(JobRepository, "transition", crash_once_when_recording_the_answer)
    job_id = pipeline.upload("incoming/crash/after-accept.png")

    stack.pump()  # the first delivery: GMI accepts, then the invocation dies

    assert crashed == [job_id]
    assert local_gmi.post_count == 1
    assert pipeline.job(job_id).status == "submitting"
    # SQS hands the message out again once its visibility timeout (600 s in the template, longer than the
    # function may run) is over: the crashed invocation's lease on the submission has run out by then.
    later = time.time() + _visibility_timeout(stack)
    monkeypatch.setattr(submit_module().service(), "clock", lambda: later)
    stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "submit_ambiguous"
    assert job.failure is not None
    assert job.failure.category == "submit_ambiguous"
    assert f"`i2v reconcile {job_id}` searches now" in job.failure.message
    assert local_gmi.post_count == 1
    assert len(posts(local_gmi)) == 1  # no blind second POST
    assert pipeline.executions() == []
    assert leak_guard.metric_values("SubmitAmbiguous") == [1.0]  # in the EMF output...
    _assert_alarm_watches(cdk_template, leak_guard.json_lines(), "SubmitAmbiguous")  # ...as the alarm sees it
    (event,) = tap.of_type(FAILED)
    assert event["detail"]["status"] == "submit_ambiguous"
    assert event["detail"]["failure"]["category"] == "submit_ambiguous"

    # The operator checks GMI, then `i2v retry` (the CLI's service) confirms the possible second payment.
    monkeypatch.setattr(submit_module().service(), "clock", time.time)
    requeue = SubmitQueue(submit_queue(stack))
    with pytest.raises(RetryRefusedError, match="pay twice"):
        retry_job(pipeline.repo, requeue, job_id, confirm_ambiguous=False)
    retry_job(pipeline.repo, requeue, job_id, confirm_ambiguous=True)
    stack.run_until_idle(timeout=30)

    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.attempt == 2
    assert job.failure is None
    assert local_gmi.post_count == 2  # the one the operator confirmed
    assert [e["name"] for e in pipeline.executions()] == [f"{job_id}-2"]
    assert [e["detail"]["attempt"] for e in tap.of_type(SUBMITTED)] == [2]


def _assert_alarm_watches(template: dict[str, Any], documents: list[dict[str, Any]], metric: str) -> None:
    """A template alarm watches exactly the namespace, name and dimensions the EMF document was written with."""
    watched = [
        query["MetricStat"]["Metric"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        for query in resource["Properties"].get("Metrics", [])
        if "MetricStat" in query and query["MetricStat"]["Metric"]["MetricName"] == metric
    ]
    (alarm_metric,) = watched
    (emf,) = [d for d in documents if "_aws" in d and metric in d]
    (directive,) = [m for m in emf["_aws"]["CloudWatchMetrics"] if any(x["Name"] == metric for x in m["Metrics"])]
    assert directive["Namespace"] == alarm_metric["Namespace"]
    (dimension_names,) = directive["Dimensions"]
    assert {name: emf[name] for name in dimension_names} == {d["Name"]: d["Value"] for d in alarm_metric["Dimensions"]}


def test_s08_crash_after_the_request_id_is_stored_resumes_without_a_second_post(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other side of the same window: GMI's answer is recorded, then the function dies before it announced
    the job and started the workflow. The redelivery finishes that work; GMI is not asked again."""
    tap = leak_guard.watch(local_stack)
    crashed: list[str] = []
    publish = EventPublisher.publish

    def crash_once_when_announcing(self: EventPublisher, detail_type: str, *a: Any, **k: Any) -> None:
        if detail_type == SUBMITTED and not crashed:
            crashed.append(detail_type)
            raise SimulatedCrashError("the submit function died before announcing the job")
        publish(self, detail_type, *a, **k)

    monkeypatch.setattr(EventPublisher, "publish", crash_once_when_announcing)
    job_id = pipeline.upload("incoming/crash/after-record.png")

    local_stack.run_until_idle(timeout=30)

    assert crashed == [SUBMITTED]
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.execution_name == f"{job_id}-1"
    assert local_gmi.post_count == 1
    assert handled(leak_guard.json_lines(), job_id) == ["resumed"]
    assert len(tap.of_type(SUBMITTED)) == 1
    assert leak_guard.metric_values("SubmitAmbiguous") == []
