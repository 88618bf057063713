"""State transitions and history events of one execution, walked through a state machine definition.

Step Functions Standard bills every state entered (a state transition); the history events are what a
job adds to the execution history (the 25,000-event quota) and to the ALL-level execution log.

Two designs: the deployed one, walked through the real (synthesized) definition, whose Watch task waits on a
task token while the watch function looks at GMI (one Watch round per job, however many looks); and the
Wait -> Poll -> Route loop (WAIT_LOOP_DEFINITION), one round per poll invocation: the fixed 60 s baseline and
the previous, inline-sleeping design. The baseline is kept explicit so it does not move with the deployed
definition.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# History events each state type adds when it runs once (Lambda task: TaskStateEntered, TaskScheduled,
# TaskStarted, TaskSucceeded, TaskStateExited).
EVENTS_PER_STATE = {"Choice": 2, "Wait": 2, "Pass": 2, "Succeed": 2, "Fail": 1, "Task": 5}
# A callback task (Resource ending in .waitForTaskToken) also records TaskSubmitted once its request is sent.
CALLBACK_SUFFIX = ".waitForTaskToken"
CALLBACK_TASK_EVENTS = 6
EXECUTION_EVENTS = 2  # ExecutionStarted + ExecutionSucceeded


@dataclass(frozen=True)
class WorkflowCost:
    transitions: int
    history_events: int
    states: tuple[str, ...]


@functools.cache
def deployed_template() -> dict[str, Any]:
    """The synthesized CDK app (cdk.json's configuration), once per process: the cost model reads it too."""
    from i2v_infra.synth import synthesize_template

    return synthesize_template()


@functools.cache
def definition() -> dict[str, Any]:
    """The deployed definition: the synthesized CDK app's (i2v_infra), or FALLBACK_DEFINITION if CDK is missing."""
    try:
        from i2v_infra.template_tools import state_machine_definition

        return state_machine_definition(deployed_template())
    except ImportError:  # pragma: no cover - the dev install always has CDK
        return FALLBACK_DEFINITION


def _choose(state: dict[str, Any], data: dict[str, Any]) -> str:
    for rule in state.get("Choices", []):
        if _matches(rule, data):
            return str(rule["Next"])
    return str(state["Default"])


def _matches(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    if "Or" in rule:
        return any(_matches(r, data) for r in rule["Or"])
    if "And" in rule:
        return all(_matches(r, data) for r in rule["And"])
    value: Any = data
    for part in str(rule["Variable"]).removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "StringEquals" in rule and value == rule["StringEquals"]


def events_of(state: dict[str, Any]) -> int:
    """History events one run of `state` adds."""
    if state["Type"] == "Task" and str(state.get("Resource", "")).endswith(CALLBACK_SUFFIX):
        return CALLBACK_TASK_EVENTS
    return EVENTS_PER_STATE[state["Type"]]


def walk(poll_outcomes: list[str], done_at_submit: bool = False, spec: dict[str, Any] | None = None) -> WorkflowCost:
    """Run `spec` (default: the deployed definition) with the states whose result is `$.poll` (Poll, Watch)
    answering `poll_outcomes` in turn (the last one ends the loop); `done_at_submit`: GMI's answer to the POST
    already said finished (ExecutionInput.first)."""
    spec = definition() if spec is None else spec
    outcomes: Iterator[str] = iter(poll_outcomes)
    data: dict[str, Any] = {"poll": {"outcome": "succeeded" if done_at_submit else "waiting"}}
    name, states, events = str(spec["StartAt"]), [], EXECUTION_EVENTS
    while True:
        state = spec["States"][name]
        states.append(name)
        events += events_of(state)
        if state["Type"] in ("Succeed", "Fail") or state.get("End"):
            return WorkflowCost(len(states), events, tuple(states))
        if state["Type"] == "Choice":
            name = _choose(state, data)
            continue
        if state["Type"] == "Task" and state.get("ResultPath") == "$.poll":
            data["poll"] = {"outcome": next(outcomes)}
        name = str(state["Next"])


@functools.cache
def wait_loop(rounds: int) -> WorkflowCost:
    """Wait -> Poll -> Route rounds (the fixed 60 s baseline, the previous design): a job that GMI finished by the
    `rounds`-th poll invocation, then completed."""
    return walk(["waiting"] * (rounds - 1) + ["succeeded"], spec=WAIT_LOOP_DEFINITION)


@functools.cache
def watched() -> WorkflowCost:
    """The deployed design: one Watch round (its task token answered once, after every look), then completed."""
    return walk(["succeeded"])


def workflow_cost(rounds: int, watch: bool) -> WorkflowCost:
    """A job's execution: one Watch round when its looks came from the watch queue, else `rounds` Wait loops."""
    return watched() if watch else wait_loop(max(1, rounds))


_ROUTE: dict[str, Any] = {
    "Type": "Choice",
    "Choices": [
        {"Variable": "$.poll.outcome", "StringEquals": "succeeded", "Next": "Complete"},
        {
            "Or": [
                {"Variable": "$.poll.outcome", "StringEquals": "failed"},
                {"Variable": "$.poll.outcome", "StringEquals": "timed_out"},
            ],
            "Next": "RecordFailure",
        },
    ],
}
_LAMBDA = "arn:aws:states:::lambda:invoke"
_ENDS: dict[str, Any] = {
    "Complete": {"Type": "Task", "Resource": _LAMBDA, "ResultPath": "$.complete", "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "RecordFailure": {"Type": "Task", "Resource": _LAMBDA, "ResultPath": "$.failure_recorded", "Next": "JobFailed"},
    "JobFailed": {"Type": "Succeed"},
}
# The poll loop before the Watch state (docs/architecture.md until then): a Wait, the poll function, Route.
WAIT_LOOP_DEFINITION: dict[str, Any] = {
    "StartAt": "AlreadyDone?",
    "States": {
        "AlreadyDone?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.poll.outcome", "StringEquals": "succeeded", "Next": "Complete"}],
            "Default": "Wait",
        },
        "Wait": {"Type": "Wait", "SecondsPath": "$.poll.next_wait_seconds", "Next": "Poll"},
        "Poll": {"Type": "Task", "Resource": _LAMBDA, "ResultPath": "$.poll", "Next": "Route"},
        "Route": {**_ROUTE, "Default": "Wait"},
        **_ENDS,
    },
}
# The deployed contract (used only without the CDK dependencies): the Watch task in place of Wait and Poll; its
# Catch falls back to the Wait -> Poll loop (not walked: the normal path never takes it).
FALLBACK_DEFINITION: dict[str, Any] = {
    "StartAt": "AlreadyDone?",
    "States": {
        "AlreadyDone?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.poll.outcome", "StringEquals": "succeeded", "Next": "Complete"}],
            "Default": "Watch",
        },
        "Watch": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "ResultPath": "$.poll",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.watch_error", "Next": "Wait"}],
            "Next": "Route",
        },
        "Route": {**_ROUTE, "Default": "Watch"},
        "Wait": {"Type": "Wait", "SecondsPath": "$.poll.next_wait_seconds", "Next": "Poll"},
        "Poll": {"Type": "Task", "Resource": _LAMBDA, "ResultPath": "$.poll", "Next": "Route"},
        **_ENDS,
    },
}
