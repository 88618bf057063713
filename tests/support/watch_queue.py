"""The local stack's two SQS event sources (the submit queue and the watch queue), and ways to break the Watch
state's chain of looks so the fallback (Wait -> Poll) has to take over.

    submit_pump(stack), watch_pump(stack)          # the pump of each event source mapping
    watch_queue_url(stack)
    wait_for_watch_messages(stack, 2)              # until two watch messages are visible at once (one batch)
    with refuse_watch_messages() as refused: ...   # SQS refuses the Watch state's SendMessage (TaskFailed)
    with_watch_heartbeat(template, 2)              # a template whose Watch state gives up after 2 s of silence
    move_watch_clock(monkeypatch, now)             # the watch function's clock, for tests that move SQS's clock
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from i2v_local.stack import LocalStack, SqsPump

WATCH_FUNCTION = "Watcher"  # part of the watch function's logical id
SUBMIT_FUNCTION = "Submit"


def pump_of(stack: LocalStack, logical_part: str) -> SqsPump:
    """The pump of the event source mapping feeding the function whose logical id contains `logical_part`."""
    name = stack.function(logical_part).name
    (pump,) = [p for p in stack.pumps if p.source.function_name == name]
    return pump


def submit_pump(stack: LocalStack) -> SqsPump:
    return pump_of(stack, SUBMIT_FUNCTION)


def watch_pump(stack: LocalStack) -> SqsPump:
    return pump_of(stack, WATCH_FUNCTION)


def watch_queue_url(stack: LocalStack) -> str:
    return watch_pump(stack).source.queue_url


def wait_for_watch_messages(stack: LocalStack, count: int, timeout: float = 20.0) -> None:
    """Until `count` watch messages are visible at once (sent by the Watch states, their delay over): the next
    receive hands them to the function in one batch, whatever the machine's load."""
    sqs, deadline = stack.client("sqs"), time.monotonic() + timeout
    while True:
        attributes = sqs.get_queue_attributes(
            QueueUrl=watch_queue_url(stack), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        if int(attributes["ApproximateNumberOfMessages"]) >= count:
            return
        assert time.monotonic() < deadline, "the Watch states' messages never became visible together"
        time.sleep(0.1)


def event_source_mapping(template: dict[str, Any], logical_part: str) -> dict[str, Any]:
    """The template's event source mapping whose function's logical id contains `logical_part`."""
    mappings: list[dict[str, Any]] = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and logical_part in json.dumps(resource["Properties"]["FunctionName"])
    ]
    (mapping,) = mappings
    return mapping


def watch_service() -> Any:
    """The watch function's WatchService (i2v.handlers.watch; imported only once a stack set the environment)."""
    return importlib.import_module("i2v.handlers.watch").service()


def move_watch_clock(monkeypatch: pytest.MonkeyPatch, now: Callable[[], float]) -> None:
    """The watch function's clock reads `now()`. It finds a look due at SQS's SentTimestamp plus the wait, so a
    test that moves moto's SQS clock (unix_time_millis) must move this one with it: else every look seems due
    hours or days ahead, and the watch function sends the job on, delayed, instead of looking."""
    monkeypatch.setattr(watch_service(), "clock", now)


# ---- breaking the Watch state -------------------------------------------------------------------------------
@dataclass
class Refusals:
    count: int = 0


@contextmanager
def refuse_watch_messages(code: str = "KMS.DisabledException") -> Iterator[Refusals]:
    """SQS refuses every SendMessage of the Watch state (the Step Functions SQS integration of moto's
    interpreter; the only `arn:aws:states:::sqs:` task of the state machine): the task fails at once, as it
    would in AWS with, say, the queue's key disabled. The watch function's own sends are not touched."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sqs

    refusals = Refusals()
    task = state_task_service_sqs.StateTaskServiceSqs
    real = task._eval_service_task

    def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
        refusals.count += 1
        raise ClientError({"Error": {"Code": code, "Message": "refused by the test"}}, "SendMessage")

    task._eval_service_task = refuse  # type: ignore[method-assign]
    try:
        yield refusals
    finally:
        task._eval_service_task = real  # type: ignore[method-assign]


# Only the Watch state has a heartbeat (the Lambda tasks have none).
_HEARTBEAT = re.compile(r'("HeartbeatSeconds":)\d+')


def with_watch_heartbeat(template: dict[str, Any], seconds: int) -> dict[str, Any]:
    """A copy of the synthesized template whose Watch state waits `seconds` (not ~20 minutes) for a heartbeat
    before it gives up on its chain of looks and falls back to Wait -> Poll. Nothing else changes."""
    changed = copy.deepcopy(template)
    machines = [r for r in changed["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    replaced = 0
    for machine in machines:
        definition = machine["Properties"]["DefinitionString"]
        parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
        for i, part in enumerate(parts):
            if isinstance(part, str):
                parts[i], n = _HEARTBEAT.subn(rf"\g<1>{seconds}", part)
                replaced += n
        if not isinstance(definition, dict):
            machine["Properties"]["DefinitionString"] = parts[0]
    if replaced != 1:
        raise AssertionError(f"expected one Watch state's HeartbeatSeconds in the template, found {replaced}")
    return changed
