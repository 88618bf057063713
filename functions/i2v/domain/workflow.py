"""The workflow contract: what submit hands the state machine, and what each of its tasks reads and returns.

One set of models for every reader and writer: submit builds `ExecutionInput`, Poll reads it and returns a
`PollResult` (stored at `$.poll`), Complete reads `CompleteInput`, RecordFailure reads `FailureState`. When
Complete runs out of retries on `VideoNotStoredError`, the state machine stores the error at `$.store_error`
and goes back to Poll, which waits and sends the job to Complete again until the deadline. The
state machine (infrastructure) takes its JSON paths from these models through `json_path`, so a renamed field
breaks synth rather than a running execution.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, computed_field

from i2v.domain.jobs import Failure, FailureCategory, TransientError, parse_failure
from i2v.domain.polling import Expectation, PollOutcome, classify_gmi_status

SQS_MAX_DELAY_SECONDS = 900  # SendMessage's DelaySeconds limit


class PollResult(BaseModel):
    """One poll's verdict (`$.poll`); the state machine routes on `outcome` and waits `next_wait_seconds`."""

    model_config = ConfigDict(extra="ignore")

    outcome: PollOutcome = PollOutcome.WAITING
    next_wait_seconds: int = Field(default=1, ge=1)
    poll_count: int = 0
    consecutive_errors: int = 0
    gmi_status: str | None = None
    failure: Failure | None = None
    # Complete's rounds that ran out of retries on VideoNotStoredError: the store loop's backoff grows with it.
    failed_stores: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def queue_delay_seconds(self) -> int:
        """What the Watch state delays its message by: the wait, as far as SQS allows (the watcher hops on)."""
        return min(self.next_wait_seconds, SQS_MAX_DELAY_SECONDS)

    def dumped(self) -> dict[str, Any]:
        """The JSON the state machine stores (enums as their values)."""
        return self.model_dump(mode="json")


class VideoNotStoredError(TransientError):
    """A transient failure before the video was stored (GMI's GET or the video host failing). The state machine
    retries it like TransientError, then, rather than fail a job whose video GMI made (and billed), sends it
    back to the poll loop to try again later, until the deadline."""


class CompleteInput(BaseModel):
    """The Complete task's payload: the fields of the execution state it is handed (state_machine.py)."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    request_id: str
    attempt: int = 1


class CompletePayload(CompleteInput):
    """What the Complete task is handed (state_machine.complete_payload): CompleteInput's fields, and
    `store_loop`, true in the definitions whose Complete catches VideoNotStoredError."""

    # An execution keeps the definition it started with: one started before the store loop existed sends no
    # `store_loop`, and its Retry knows TransientError only.
    store_loop: bool = False

    @contextmanager
    def errors_its_definition_retries(self) -> Iterator[None]:
        """VideoNotStoredError becomes a plain TransientError for a definition without the store loop."""
        try:
            yield
        except VideoNotStoredError as not_stored:
            if self.store_loop:
                raise
            failure = parse_failure(str(not_stored), not_stored.category)
            raise TransientError(failure.message, failure.category) from None


class ExecutionInput(CompleteInput):
    """Written by submit as the execution input; the state every task of the execution starts from."""

    model: str
    # The settings the polling expectation was learned per (catalog time class), e.g. quality and duration.
    time_class: dict[str, str] = Field(default_factory=dict)
    submitted_at: float
    deadline_at: float
    # GMI's status when submit last heard of the request, lower-cased (what the POST answered).
    gmi_status: str
    # When jobs like this one usually finish; None until enough of them have.
    expectation: Expectation | None = None
    # Before the first poll: `outcome` is already `succeeded` when GMI finished during the POST
    # (the state machine then goes straight to Complete), else `waiting`.
    poll: PollResult

    @classmethod
    def first(
        cls,
        *,
        job_id: str,
        attempt: int,
        request_id: str,
        model: str,
        time_class: dict[str, str],
        submitted_at: float,
        deadline_at: float,
        gmi_status: str | None,
        expectation: Expectation | None,
        first_wait_seconds: int,
    ) -> Self:
        status = (gmi_status or "queued").lower()
        done = classify_gmi_status(status) == PollOutcome.SUCCEEDED
        return cls(
            job_id=job_id,
            attempt=attempt,
            request_id=request_id,
            model=model,
            time_class=time_class,
            submitted_at=submitted_at,
            deadline_at=deadline_at,
            gmi_status=status,
            expectation=expectation,
            poll=PollResult(
                outcome=PollOutcome.SUCCEEDED if done else PollOutcome.WAITING,
                next_wait_seconds=first_wait_seconds,
            ),
        )


class CaughtError(BaseModel):
    """What a Catch stores at `$.error`: Step Functions' error name and cause (a Lambda error's JSON)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: str | None = Field(default=None, alias="Error")
    cause: str | None = Field(default=None, alias="Cause")

    def failure(self) -> Failure:
        cause = self.cause or ""
        try:
            message = str(json.loads(cause).get("errorMessage", cause))
        except (ValueError, AttributeError):
            message = cause
        return parse_failure(message or self.error or "unknown error", FailureCategory.WORKFLOW_ERROR)


class PollState(ExecutionInput):
    """What the Poll task reads: the execution state (the input plus the previous poll's result)."""

    # Set by Complete's Catch when it ran out of retries on VideoNotStoredError (state_machine.py): from then
    # on Poll runs the store loop (i2v.services.store_later) rather than the plain poll loop.
    store_error: CaughtError | None = None


class WatchMessage(BaseModel):
    """The watch queue's message: the Watch state sends the execution state with its task token, the watch
    function sends it on (delayed) until the job is done, then answers the token (i2v.services.watch).

    `due_at`: when the next look is due, set by the watcher; absent in the state machine's own message, whose
    look is due its SentTimestamp plus `state.poll.next_wait_seconds`.
    `look`: the message's place in its chain (the state machine's own message: 0; each successor the watcher
    sends, a hop included: look + 1). A look claims its number on the job item before its GET, so a second copy
    of a look (SQS delivers at least once) is told from the first and stops (i2v.services.watch)."""

    model_config = ConfigDict(extra="ignore")

    # The token ends the Watch task for a principal allowed states:SendTask* on the state machine: kept out
    # of reprs and of our logs all the same.
    task_token: SecretStr
    state: PollState
    due_at: float | None = None
    look: int = Field(default=0, ge=0)

    def body(self) -> str:
        """The JSON SQS carries (the token in clear: only the watch function reads the queue)."""
        return json.dumps(
            {
                "task_token": self.task_token.get_secret_value(),
                "state": self.state.model_dump(mode="json", by_alias=True, exclude_none=True),
                "due_at": self.due_at,
                "look": self.look,
            }
        )


class FailureState(BaseModel):
    """What RecordFailure reads: the execution state after Poll's failing verdict or a Catch."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    poll: PollResult | None = None
    error: CaughtError | None = None

    def failure(self) -> Failure:
        """The poll's own verdict, else the error a Catch put under `$.error`."""
        if self.poll is not None and self.poll.failure is not None:
            return self.poll.failure
        return (self.error or CaughtError()).failure()


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside `Model` or `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        found = [_model_of(arg) for arg in get_args(annotation)]
        return next((model for model in found if model is not None), None)
    return None


def json_path(model: type[BaseModel], *names: str) -> str:
    """`$.a.b` for a chain of JSON field names (aliases where set) of `model`; a name the model lacks raises
    KeyError, so a renamed field breaks synth."""
    current: type[BaseModel] | None = model
    for name in names:
        fields = {
            info.alias or field: info.annotation for field, info in (current.model_fields if current else {}).items()
        }
        computed = {
            field: info.return_type for field, info in (current.model_computed_fields if current else {}).items()
        }
        annotations = fields | computed
        if name not in annotations:
            raise KeyError(f"{'.'.join(names)} is not a field path of {model.__name__}")
        current = _model_of(annotations[name])
    return "$." + ".".join(names)


class ExecutionState(PollState):
    """Everything the execution state can hold: every JSON path of the state machine is a field path here."""

    error: CaughtError | None = None
    # Why the Watch state gave up on its chain of looks (the fallback Poll loop took over): history only.
    watch_error: CaughtError | None = None
    # The Complete and RecordFailure answers: read by nobody, kept for the execution history.
    complete: dict[str, Any] | None = None
    failure_recorded: dict[str, Any] | None = None


# Result paths of the state machine's tasks: where each task's answer goes in the execution state.
POLL_RESULT_PATH = json_path(ExecutionState, "poll")
ERROR_PATH = json_path(ExecutionState, "error")
STORE_ERROR_PATH = json_path(ExecutionState, "store_error")
WATCH_ERROR_PATH = json_path(ExecutionState, "watch_error")
COMPLETE_RESULT_PATH = json_path(ExecutionState, "complete")
FAILURE_RECORDED_PATH = json_path(ExecutionState, "failure_recorded")
