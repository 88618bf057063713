"""Scenarios 13-17: the poll loop of the real synthesized state machine, run by moto's Step Functions interpreter
with the real handlers in-process, against the GMI simulator's faults. The looks are the watch function's
(Watch -> Route, one look per delayed watch-queue message), or the Poll task's when the Watch state fails
(Watch -> Wait -> Poll -> Route); `support.poll_looks` records the verdicts of both.

16 (one transient poll error is retried, the execution succeeds) and 17 (StartExecution retried -> one
execution) are covered by tests/workflow/test_workflow.py:
  16 -> test_status_check_error_is_retried_by_the_poll_loop
  17 -> test_start_execution_retried_after_a_lost_response_posts_once
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from i2v.domain.polling import Expectation, PollPolicy
from i2v.domain.record import JobRecord
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.workflow_helpers import (
    FAILED,
    HISTORY_LIMIT,
    SUCCEEDED,
    default_deadline_seconds,
    events_per_round,
    full_history,
    poll_loop_turns,
    shorten_deadline,
    state_machine_rounds,
    worst_case_turns,
)
from support.poll_looks import record_looks
from support.watch_queue import refuse_watch_messages

pytestmark = pytest.mark.xdist_group(__name__)


# ---- 13: unknown GMI status values ------------------------------------------------------------------------
def test_s13_unknown_status_keeps_polling_then_succeeds(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = record_looks(monkeypatch)
    tap = local_stack.tap_events()
    job_id = pipeline.upload(
        "incoming/s13/dispatched.png", prompt="a kite [sim:unknown_status gets=3 status=dispatched]"
    )

    local_stack.run_until_idle(timeout=30)

    assert looks.errors() == [], "a look crashed on an unknown status"
    verdicts = looks.verdicts(job_id)
    assert {v["gmi_status"] for v in verdicts} <= {"dispatched", "success"}
    assert all(v["outcome"] == "waiting" for v in verdicts[:-1])
    (gmi_job,) = local_gmi.jobs.values()
    assert gmi_job.reported[:4] == ["dispatched"] * 3 + ["success"]  # what the status checks were told
    assert verdicts[-1]["outcome"] == "succeeded"
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    assert len(tap.wait_for(SUCCEEDED)) == 1
    assert local_gmi.post_count == 1


def test_s13_unknown_status_forever_times_out_at_the_deadline(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = record_looks(monkeypatch)
    shorten_deadline(4)
    tap = local_stack.tap_events()
    job_id = pipeline.upload(
        "incoming/s13/limbo.png", prompt="limbo [sim:unknown_status gets=1000000 status=mystery_state]"
    )

    local_stack.run_until_idle(timeout=30)

    assert looks.errors() == []
    verdicts = looks.verdicts(job_id)
    (gmi_job,) = local_gmi.jobs.values()
    assert len(gmi_job.reported) >= 3  # kept looking until the deadline
    assert set(gmi_job.reported) == {"mystery_state"}
    assert {v["gmi_status"] for v in verdicts} == {"mystery_state"}
    assert [v["outcome"] for v in verdicts] == ["waiting"] * (len(verdicts) - 1) + ["timed_out"]
    job = pipeline.job(job_id)
    assert job.status == "timed_out"
    assert job.failure is not None
    assert job.failure.category == "timed_out"
    assert job.gmi_status == "mystery_state"
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"  # JobFailed: the workflow handled it
    assert [e["detail"]["status"] for e in tap.wait_for(FAILED)] == ["timed_out"]


# ---- 15: stuck job -> timed_out at the deadline, far below the history limit ------------------------------
DEADLINE = 6
# Events of the execution around the loop (start, AlreadyDone?, RecordFailure, JobFailed, end), with room to spare.
HEAD_AND_TAIL = 20


def _production_windows(deadline: int) -> list[Expectation | None]:
    return [
        None,  # nothing learned yet
        Expectation(early_seconds=60, late_seconds=300, samples=20),  # typical runs
        Expectation(early_seconds=5, late_seconds=deadline, samples=3),  # a window spanning the deadline
    ]


def _timed_out_on_time(stack: LocalStack, pipeline: PipelineDriver, job_id: str) -> tuple[JobRecord, dict[str, Any]]:
    """The job timed out at its deadline, and on time: the last look lands on the deadline
    (wait_before_deadline), not a whole interval after it. Returns the record and the execution."""
    job = pipeline.job(job_id)
    assert job.status == "timed_out"
    assert job.failure is not None
    assert job.failure.category == "timed_out"
    assert f"{DEADLINE} s deadline" in job.failure.message
    (execution,) = pipeline.executions()
    assert execution["status"] == "SUCCEEDED"
    sfn = stack.client("stepfunctions")
    execution_input = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    policy = PollPolicy.model_validate_json(stack.function_environment()["POLL_POLICY"])
    timed_out_at = datetime.fromisoformat(job.timestamps["timed_out"]).timestamp()
    late = timed_out_at - execution_input["deadline_at"]
    assert -0.5 <= late <= policy.max_wait_seconds + 2, f"timed out {late:.1f} s after the deadline"
    return job, execution


def _states_entered(history: list[dict[str, Any]]) -> list[str]:
    return [event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event]


def test_s15_stuck_job_times_out_at_the_deadline_far_below_the_history_limit(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    record_property: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watch function makes the looks outside the execution: however many there are, the history holds
    one Watch state, so it does not grow with the deadline or the policy."""
    stack = local_stack_factory()
    looks = record_looks(monkeypatch)
    pipeline = PipelineDriver(stack)
    shorten_deadline(DEADLINE)
    job_id = pipeline.upload("incoming/s15/stuck.png", prompt="never finishes [sim:stuck]")

    stack.run_until_idle(timeout=60)

    _, execution = _timed_out_on_time(stack, pipeline, job_id)
    verdicts = looks.verdicts(job_id)
    assert verdicts == looks.verdicts(job_id, by="Watch")  # every look the watch function's
    assert len(verdicts) >= 3
    assert [v["outcome"] for v in verdicts] == ["waiting"] * (len(verdicts) - 1) + ["timed_out"]
    # The history: one Watch state for all those looks (each look costs a queue message, not an event).
    history = full_history(stack, execution["executionArn"])
    assert _states_entered(history) == ["AlreadyDone?", "Watch", "Route", "RecordFailure", "JobFailed"]
    assert len(history) <= 6 + HEAD_AND_TAIL  # the Watch state's events, the rest

    # Production (the default policy and JOB_DEADLINE_SECONDS, the real policy functions replayed): many more
    # looks, the same history.
    production = PollPolicy()
    deadline = default_deadline_seconds()
    production_looks = max(poll_loop_turns(deadline, production, window) for window in _production_windows(deadline))
    record_property("history_events_local", len(history))
    record_property("production_looks_replayed", production_looks)
    print(
        f"\n[s15] local: {len(verdicts)} looks, {len(history)} events; production (deadline {deadline} s, default "
        f"policy): <= {production_looks} looks, the same {len(history)} events; limit {HISTORY_LIMIT}"
    )
    assert len(history) < HISTORY_LIMIT / 100
    assert local_gmi.post_count == 1


def test_s15_with_every_watch_message_refused_the_fallback_loop_stays_far_below_the_history_limit(
    local_stack_factory: Callable[..., LocalStack],
    local_gmi: GmiSimulator,
    record_property: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fallback's history: SQS refuses the Watch state's message, so every look is the Poll task's, a round
    of Wait -> Poll -> Route in the execution (Route never sends the job back to Watch once its Catch fired: issue
    24). The job still times out on time, and the rounds a production deadline needs stay far below the history
    limit."""
    stack = local_stack_factory()
    looks = record_looks(monkeypatch)
    pipeline = PipelineDriver(stack)
    shorten_deadline(DEADLINE)
    with refuse_watch_messages() as refused:
        job_id = pipeline.upload("incoming/s15/stuck-refused.png", prompt="never finishes [sim:stuck]")
        stack.run_until_idle(timeout=60)

    _, execution = _timed_out_on_time(stack, pipeline, job_id)
    rounds = len(looks.of(job_id, by="Poll"))
    assert rounds >= 2
    assert looks.of(job_id, by="Watch") == []
    assert refused.count == 1  # the first Watch; the fallback kept the job from then on
    # The history: a fixed head and tail plus one block of events per round of the loop.
    history = full_history(stack, execution["executionArn"])
    assert sum(1 for e in history if e["type"] == "WaitStateEntered") == rounds
    per_round = events_per_round(history)
    assert len(history) <= rounds * per_round + HEAD_AND_TAIL

    # Production: the real policy functions, the default policy and JOB_DEADLINE_SECONDS.
    production = PollPolicy()
    deadline = default_deadline_seconds()
    windows = _production_windows(deadline)
    replayed = max(state_machine_rounds(deadline, production, window) for window in windows)
    looks_replayed = max(poll_loop_turns(deadline, production, window) for window in windows)
    bound = worst_case_turns(deadline, production)  # every wait at min_wait_seconds, none inline
    projected, projected_bound = replayed * per_round + HEAD_AND_TAIL, bound * per_round + HEAD_AND_TAIL
    record_property("history_events_local_fallback", len(history))
    record_property("production_rounds_replayed_fallback", replayed)
    record_property("production_history_projected_fallback", projected)
    print(
        f"\n[s15, every Watch refused] local: {rounds} rounds, {len(history)} events ({per_round}/round); "
        f"production (deadline {deadline} s, default policy): <= {replayed} rounds ({looks_replayed} status "
        f"checks) -> ~{projected} events; bound without inline polls, every wait at the minimum: {bound} rounds "
        f"-> {projected_bound} events; limit {HISTORY_LIMIT}"
    )
    assert projected < HISTORY_LIMIT / 10
    # The failed Watch adds its events to every round (14 locally, 9 without it), so the bound is no longer
    # under half the limit, as the Wait -> Poll loop alone was; it stays under the limit.
    assert projected_bound < HISTORY_LIMIT
    assert local_gmi.post_count == 1
