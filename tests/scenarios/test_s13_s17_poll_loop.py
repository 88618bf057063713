"""Scenarios 13-17: the poll loop (Wait -> Poll -> Route) of the real synthesized state machine, run by moto's
Step Functions interpreter with the real handlers in-process, against the GMI simulator's faults.

16 (one transient poll error is retried, the execution succeeds) and 17 (StartExecution retried -> one
execution) are covered by tests/workflow/test_workflow.py:
  16 -> test_status_check_error_is_retried_by_the_poll_loop
  17 -> test_start_execution_retried_after_a_lost_response_posts_once
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from i2v.domain.polling import Expectation, PollPolicy
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
    results_of,
    shorten_deadline,
    state_machine_rounds,
    worst_case_turns,
)

pytestmark = pytest.mark.xdist_group("local")


# ---- 13: unknown GMI status values ------------------------------------------------------------------------
def test_s13_unknown_status_keeps_polling_then_succeeds(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    tap = local_stack.tap_events()
    job_id = pipeline.upload(
        "incoming/s13/dispatched.png", prompt="a kite [sim:unknown_status gets=3 status=dispatched]"
    )

    local_stack.run_until_idle(timeout=30)

    polls = results_of(local_stack, "Poll")
    assert not any(p.error for p in polls), "a poll crashed on an unknown status"
    assert {p.payload["gmi_status"] for p in polls} <= {"dispatched", "success"}
    assert all(p.payload["outcome"] == "waiting" for p in polls[:-1])
    (gmi_job,) = local_gmi.jobs.values()
    assert gmi_job.reported[:4] == ["dispatched"] * 3 + ["success"]  # what the status checks were told
    assert polls[-1].payload["outcome"] == "succeeded"
    job = pipeline.job(job_id)
    assert job.status == "succeeded"
    assert job.output is not None
    assert len(tap.wait_for(SUCCEEDED)) == 1
    assert local_gmi.post_count == 1


def test_s13_unknown_status_forever_times_out_at_the_deadline(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator
) -> None:
    shorten_deadline(4)
    tap = local_stack.tap_events()
    job_id = pipeline.upload(
        "incoming/s13/limbo.png", prompt="limbo [sim:unknown_status gets=1000000 status=mystery_state]"
    )

    local_stack.run_until_idle(timeout=30)

    polls = results_of(local_stack, "Poll")
    assert not any(p.error for p in polls)
    (gmi_job,) = local_gmi.jobs.values()
    assert len(gmi_job.reported) >= 3  # kept looking until the deadline
    assert set(gmi_job.reported) == {"mystery_state"}
    assert {p.payload["gmi_status"] for p in polls} == {"mystery_state"}
    assert [p.payload["outcome"] for p in polls] == ["waiting"] * (len(polls) - 1) + ["timed_out"]
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


def test_s15_stuck_job_times_out_at_the_deadline_far_below_the_history_limit(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, record_property: Callable[..., None]
) -> None:
    stack = local_stack_factory()
    pipeline = PipelineDriver(stack)
    shorten_deadline(DEADLINE)
    job_id = pipeline.upload("incoming/s15/stuck.png", prompt="never finishes [sim:stuck]")

    stack.run_until_idle(timeout=60)

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
    # On time: the last poll lands on the deadline (wait_before_deadline), not a whole interval after it.
    timed_out_at = datetime.fromisoformat(job.timestamps["timed_out"]).timestamp()
    late = timed_out_at - execution_input["deadline_at"]
    assert -0.5 <= late <= policy.max_wait_seconds + 2, f"timed out {late:.1f} s after the deadline"

    # The history: a fixed head and tail plus one block of events per round of the loop.
    history = full_history(stack, execution["executionArn"])
    rounds = len(results_of(stack, "Poll"))
    assert sum(1 for e in history if e["type"] == "WaitStateEntered") == rounds
    per_round = events_per_round(history)
    assert len(history) <= rounds * per_round + 20

    # What production gives: the real policy functions, the default policy and JOB_DEADLINE_SECONDS.
    production = PollPolicy()
    deadline = default_deadline_seconds()
    windows = [
        None,  # nothing learned yet
        Expectation(early_seconds=60, late_seconds=300, samples=20),  # typical runs
        Expectation(early_seconds=5, late_seconds=deadline, samples=3),  # a window spanning the deadline
    ]
    replayed = max(state_machine_rounds(deadline, production, window) for window in windows)
    looks = max(poll_loop_turns(deadline, production, window) for window in windows)
    bound = worst_case_turns(deadline, production)  # every wait at min_wait_seconds, none inline
    projected, projected_bound = replayed * per_round + 20, bound * per_round + 20
    record_property("history_events_local", len(history))
    record_property("production_rounds_replayed", replayed)
    record_property("production_history_projected", projected)
    print(
        f"\n[s15] local: {rounds} rounds, {len(history)} events ({per_round}/round); production "
        f"(deadline {deadline} s, default policy): <= {replayed} rounds ({looks} status checks) -> ~{projected} "
        f"events; bound without inline polls, every wait at the minimum: {bound} rounds -> {projected_bound} "
        f"events; limit {HISTORY_LIMIT}"
    )
    assert projected < HISTORY_LIMIT / 10
    assert projected_bound < HISTORY_LIMIT / 2
    assert local_gmi.post_count == 1
