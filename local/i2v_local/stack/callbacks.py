"""moto's interpreter sends a callback task's message before it sets up the task's heartbeat endpoint
(state_task_service_callback: the SQS message goes out, then the timeout and heartbeat are set up). In AWS the
token is valid once the message is sent; locally, a look that heartbeats within that window would read
InvalidToken and stop its chain as if the task were closed. While the local stack runs, SendTaskHeartbeat and
SendTaskSuccess wait a moment for the registration before answering InvalidToken."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

REGISTRATION_GRACE_SECONDS = 5.0
PATIENT = ("send_task_heartbeat", "send_task_success")


def _patient(original: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
        give_up = time.monotonic() + REGISTRATION_GRACE_SECONDS
        while True:
            try:
                return original(self, *args, **kwargs)
            except Exception as error:  # moto's InvalidToken; anything else goes straight through
                if type(error).__name__ != "InvalidToken" or time.monotonic() > give_up:
                    raise
                time.sleep(0.1)

    return call


def tokens_valid_once_sent() -> AbstractContextManager[Any]:
    patient: dict[str, Any] = {name: _patient(getattr(StepFunctionsParserBackend, name)) for name in PATIENT}
    patcher: AbstractContextManager[Any] = mock.patch.multiple(StepFunctionsParserBackend, **patient)
    return patcher
