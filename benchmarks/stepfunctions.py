"""State transitions and history events of one execution, walked through the real (synthesized) definition.

Step Functions Standard bills every state entered (a state transition); the history events are what a
job adds to the execution history (the 25,000-event quota) and to the ALL-level execution log.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# History events each state type adds when it runs once (Lambda task: TaskStateEntered, LambdaFunctionScheduled,
# LambdaFunctionStarted, LambdaFunctionSucceeded, TaskStateExited).
EVENTS_PER_STATE = {"Choice": 2, "Wait": 2, "Pass": 2, "Succeed": 2, "Fail": 1, "Task": 5}
EXECUTION_EVENTS = 2  # ExecutionStarted + ExecutionSucceeded


@dataclass(frozen=True)
class WorkflowCost:
    transitions: int
    history_events: int
    states: tuple[str, ...]


@functools.cache
def definition() -> dict[str, Any]:
    """The definition of the synthesized CDK app (i2v_infra), or the one in docs/architecture.md if CDK is missing."""
    try:
        from i2v_infra.synth import synthesize_template
        from i2v_infra.template_tools import state_machine_definition
    except ImportError:  # pragma: no cover - the dev install always has CDK
        return FALLBACK_DEFINITION
    return state_machine_definition(synthesize_template())


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


def walk(poll_outcomes: list[str], done_at_submit: bool = False) -> WorkflowCost:
    """Run the definition with polls answering `poll_outcomes` in turn (the last one ends the loop);
    `done_at_submit`: GMI's answer to the POST already said finished (ExecutionInput.first)."""
    spec = definition()
    outcomes: Iterator[str] = iter(poll_outcomes)
    data: dict[str, Any] = {"poll": {"outcome": "succeeded" if done_at_submit else "waiting"}}
    name, states, events = str(spec["StartAt"]), [], EXECUTION_EVENTS
    while True:
        state = spec["States"][name]
        states.append(name)
        events += EVENTS_PER_STATE[state["Type"]]
        if state["Type"] in ("Succeed", "Fail") or state.get("End"):
            return WorkflowCost(len(states), events, tuple(states))
        if state["Type"] == "Choice":
            name = _choose(state, data)
            continue
        if state["Type"] == "Task" and state.get("ResultPath") == "$.poll":
            data["poll"] = {"outcome": next(outcomes)}
        name = str(state["Next"])


@functools.cache
def transitions_for_polls(polls: int) -> WorkflowCost:
    """A job that GMI finished by the `polls`-th poll, then completed."""
    return walk(["waiting"] * (polls - 1) + ["succeeded"])


# docs/architecture.md, "Step Functions contract" (used only without the CDK dependencies).
FALLBACK_DEFINITION: dict[str, Any] = {
    "StartAt": "AlreadyDone?",
    "States": {
        "AlreadyDone?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.poll.outcome", "StringEquals": "succeeded", "Next": "Complete"}],
            "Default": "Wait",
        },
        "Wait": {"Type": "Wait", "SecondsPath": "$.poll.next_wait_seconds", "Next": "Poll"},
        "Poll": {"Type": "Task", "ResultPath": "$.poll", "Next": "Route"},
        "Route": {
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
            "Default": "Wait",
        },
        "Complete": {"Type": "Task", "ResultPath": "$.complete", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "RecordFailure": {"Type": "Task", "ResultPath": "$.failure_recorded", "Next": "JobFailed"},
        "JobFailed": {"Type": "Succeed"},
    },
}
