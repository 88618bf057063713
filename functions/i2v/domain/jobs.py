"""Job states, the only place where status transitions are decided."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

# The one list of failure categories is the event contract's (subscribers match on it); re-exported here.
from i2v_events.v1.fields import FailureCategory as FailureCategory  # noqa: PLC0414  (explicit re-export, PEP 484)


class JobStatus(StrEnum):
    RECEIVED = "received"
    DEFERRED = "deferred"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    SUBMIT_AMBIGUOUS = "submit_ambiguous"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.REJECTED})
RETRYABLE_BY_OPERATOR = frozenset(
    {JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.SUBMIT_AMBIGUOUS, JobStatus.REJECTED}
)

_S = JobStatus
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _S.RECEIVED: frozenset({_S.SUBMITTING, _S.DEFERRED, _S.REJECTED, _S.FAILED}),
    _S.DEFERRED: frozenset({_S.SUBMITTING, _S.DEFERRED, _S.REJECTED, _S.FAILED}),
    # submitting -> received is the safe retry: the request provably never left this process; -> deferred parks
    # a job GMI provably refused (gmi_unavailable) until it accepts submissions again.
    _S.SUBMITTING: frozenset({_S.SUBMITTED, _S.SUCCEEDED, _S.SUBMIT_AMBIGUOUS, _S.FAILED, _S.RECEIVED, _S.DEFERRED}),
    _S.SUBMITTED: frozenset({_S.QUEUED, _S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.TIMED_OUT}),
    _S.QUEUED: frozenset({_S.QUEUED, _S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.TIMED_OUT}),
    _S.PROCESSING: frozenset({_S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.TIMED_OUT}),
    _S.SUCCEEDED: frozenset(),
    _S.FAILED: frozenset({_S.RECEIVED}),
    _S.TIMED_OUT: frozenset({_S.RECEIVED}),
    _S.REJECTED: frozenset({_S.RECEIVED}),
    # submit_ambiguous -> submitted: reconciliation found the request in GMI's list (no second POST).
    _S.SUBMIT_AMBIGUOUS: frozenset({_S.RECEIVED, _S.FAILED, _S.SUBMITTED}),
}


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """Statuses from which `target` may be reached: the condition of a conditional write."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in TRANSITIONS[current]


class Failure(BaseModel):
    model_config = ConfigDict(frozen=True, use_enum_values=True)

    category: FailureCategory
    message: str


class JobFailedError(Exception):
    """A job-ending problem with a category; the message is already redacted."""

    def __init__(self, category: FailureCategory, message: str) -> None:
        # "category: message" survives the trip through a Lambda error into the workflow's Catch.
        super().__init__(f"{category}: {message}")
        self.failure = Failure(category=category, message=message)


class TransientError(Exception):
    """Worth retrying later; Step Functions retries this error name with backoff."""

    def __init__(self, message: str, category: FailureCategory = FailureCategory.INTERNAL) -> None:
        super().__init__(f"{category}: {message}")
        self.category = category


def parse_failure(text: str, default: FailureCategory) -> Failure:
    """Reads back the "category: message" form; anything else keeps the default category."""
    head, sep, rest = text.partition(": ")
    if sep and head in FailureCategory.__members__.values():
        return Failure(category=FailureCategory(head), message=rest)
    return Failure(category=default, message=text)
