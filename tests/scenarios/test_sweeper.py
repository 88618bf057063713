"""The sweeper through the local stack (issue 24): a job whose execution was stopped and whose failure was never
recorded ends recorded by the sweeper; an ambiguous job whose reconcile message was lost is reconciled; a job
with a running execution is left alone.

The schedule is not emulated: the test runs the sweeper (PipelineDriver.sweep) with its clock an hour ahead, so
every job is past the windows in which something else may still move it (i2v.domain.sweep.SweepWindows).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from i2v.adapters import queue as queue_adapter
from i2v.domain.jobs import JobStatus
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import FunctionSpec, LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.workflow_helpers import FAILED
from support.watch_queue import refuse_watch_messages

pytestmark = pytest.mark.xdist_group(__name__)

HOUR = 3600.0


def test_sweeper_records_a_stopped_execution_reconciles_a_lost_look_and_leaves_a_running_job(
    pipeline: PipelineDriver,
    local_stack: LocalStack,
    local_gmi: GmiSimulator,
    leak_guard: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Lost on the way: the ambiguous job's reconcile message (the sweeper's own, with `now`, go through) and
    # every execution status-change event (the rule that would have recorded the stopped execution).
    lost: list[str] = []
    original_send = queue_adapter.send_delayed

    def send_delayed(queue_url: str, body: str, delay_seconds: int) -> None:
        if '"kind": "reconcile"' in body and '"now": true' not in body:
            lost.append(body)
            return
        original_send(queue_url, body, delay_seconds)

    monkeypatch.setattr(queue_adapter, "send_delayed", send_delayed)
    assert local_stack.watcher is not None
    monkeypatch.setattr(local_stack.watcher, "tick", lambda: 0)
    tap = local_stack.tap_events()

    # Stopped by an operator while its Poll task runs (moto's interpreter turns a stop during the Watch
    # state's task-token wait into a failure, so the jobs here are looked at by the fallback loop).
    stopped_arns: list[str] = []

    def stop_the_first_poll_of(job_id: str) -> Any:
        def hook(spec: FunctionSpec, event: Any) -> None:
            if "Poll" in spec.logical_id and not stopped_arns and event.get("job_id") == job_id:
                name = f"{job_id}-1"
                (execution,) = [e for e in pipeline.executions() if e["name"] == name]
                stopped_arns.append(execution["executionArn"])
                local_stack.client("stepfunctions").stop_execution(executionArn=execution["executionArn"])

        return hook

    def status(job_id: str) -> str | None:
        job = pipeline.repo.get(job_id)
        return None if job is None else job.status

    sfn = local_stack.client("stepfunctions")
    with refuse_watch_messages():
        stopped = pipeline.upload("incoming/sweep/stopped.png", prompt="a mill [sim:job_stuck]")
        running = pipeline.upload("incoming/sweep/running.png", prompt="a mill [sim:job_stuck]")
        ambiguous = pipeline.upload("incoming/sweep/ambiguous.png", prompt="a pier [sim:500_after_accept]")
        local_stack.router.before_invoke.append(stop_the_first_poll_of(stopped))
        local_stack.wait_until(
            lambda: (
                bool(stopped_arns)
                and sfn.describe_execution(executionArn=stopped_arns[0])["status"] == "ABORTED"
                and status(running) == JobStatus.PROCESSING
                and status(ambiguous) == JobStatus.SUBMIT_AMBIGUOUS
            ),
            timeout=60,
        )
    assert len(lost) == 1
    assert status(stopped) in (JobStatus.SUBMITTED, JobStatus.QUEUED, JobStatus.PROCESSING)  # nothing recorded

    import i2v.handlers.sweeper as sweeper_handler

    monkeypatch.setattr(sweeper_handler.service(), "clock", lambda: time.time() + HOUR)
    report = pipeline.sweep()

    assert report.get("record_failure") == 1
    assert report.get("reconcile") == 1
    assert report.get("leave", 0) >= 1  # the running job
    job = pipeline.job(stopped)
    assert job.status == JobStatus.FAILED
    assert job.failure is not None
    assert job.failure.category == "workflow_error"
    assert f"{stopped}-1 ended aborted" in job.failure.message
    assert pipeline.job(running).status == JobStatus.PROCESSING  # its execution runs: left alone
    (running_execution,) = [e for e in pipeline.executions() if e["name"] == f"{running}-1"]
    assert running_execution["status"] == "RUNNING"

    # The reconcile message the sweeper sent finds the job GMI created: it goes on, with one POST.
    local_stack.wait_until(lambda: status(ambiguous) == JobStatus.SUCCEEDED, timeout=60)
    assert "reconciled" in pipeline.job(ambiguous).timestamps
    assert local_gmi.post_count == 3  # one per upload: the ambiguous job was never POSTed again
    failed = {event["detail"]["job_id"]: event["detail"]["failure"]["category"] for event in tap.wait_for(FAILED)}
    assert failed[stopped] == "workflow_error"
    assert leak_guard.metric_values("SweptToFailure") == [1.0]
    assert leak_guard.metric_values("SweptToReconcile") == [1.0]
