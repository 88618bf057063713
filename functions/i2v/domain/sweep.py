"""The sweeper's rules: which non-terminal job nothing watches any more, and what moves it on.

Pure: the sweeper service (i2v.services.sweeper) reads the jobs (by-status index) and their executions
(DescribeExecution) and acts on these verdicts. A job something else still watches is left alone: a running
execution, or a job whose message may still be in the submit queue (the windows below, docs/architecture.md
"The sweeper").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.record import JobRecord

# What reconciliation writes when it looked and found nothing (i2v.services.reconcile): the job then waits
# for an operator, and the sweeper does not send it to be looked up again.
NOT_FOUND_PREFIX = "not in GMI's request list"
# Step Functions' statuses of an execution that still runs (PENDING_REDRIVE: a redrive is starting it again).
STILL_RUNNING = frozenset({"RUNNING", "PENDING_REDRIVE"})


class SweepAction(StrEnum):
    LEAVE = "leave"
    RECONCILE = "reconcile"  # a submit_ambiguous job never looked up: the reconcile message, again
    RESUME = "resume"  # back to the submit function, which knows what each status needs
    RECORD_FAILURE = "record_failure"  # its execution ended and nothing recorded the job's end


@dataclass(frozen=True)
class Execution:
    """What DescribeExecution says of a job's execution."""

    status: str
    stopped_at: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class SweepWindows:
    """How old (seconds since the record's last transition) a job must be before the sweeper may act on it."""

    # Longest a submit-queue message may still bring a received/submitting job back (or start the execution
    # of a submitted one): every receive up to max_receive_count, each after a visibility timeout, plus the
    # longest SQS delay (900 s). Computed at synth from the queue (SWEEP_SUBMIT_MESSAGE_SECONDS).
    submit_message_seconds: int
    # The reconcile message is delayed SETTLE_SECONDS (i2v.services.reconcile); the wiring adds a minute for
    # its delivery.
    ambiguous_seconds: int
    # A budget deferral waits for the next UTC day (<= 24 h) in 900 s hops that do not rewrite the record;
    # the other deferrals rewrite it at every hop.
    deferred_seconds: int = 25 * 3600
    # An in-flight job's record is written only when GMI's status changes: look at its execution only
    # when it has been quiet this long (a cheap bound on DescribeExecution calls).
    in_flight_seconds: int = 300
    # The execution-status rule delivers an ended execution to the fail function within seconds (retries
    # after that); the sweeper records what it has not recorded this long after the execution stopped.
    ended_execution_seconds: int = 900

    def youngest(self, status: JobStatus) -> int:
        """The age below which a job of this status is never looked at."""
        if status == JobStatus.SUBMIT_AMBIGUOUS:
            return self.ambiguous_seconds
        if status == JobStatus.DEFERRED:
            return self.deferred_seconds
        if status in (JobStatus.RECEIVED, JobStatus.SUBMITTING):
            return self.submit_message_seconds
        return self.in_flight_seconds

    def resweep_seconds(self, status: JobStatus) -> int:
        """After acting on a job, how long its own message may need before the sweeper acts on it again."""
        return self.deferred_seconds if status == JobStatus.DEFERRED else self.submit_message_seconds


@dataclass(frozen=True)
class Verdict:
    action: SweepAction
    reason: str
    failure: Failure | None = None


SWEPT_STATUSES = (
    JobStatus.SUBMIT_AMBIGUOUS,
    JobStatus.RECEIVED,
    JobStatus.DEFERRED,
    JobStatus.SUBMITTING,
    JobStatus.SUBMITTED,
    JobStatus.QUEUED,
    JobStatus.PROCESSING,
)
NEEDS_EXECUTION = frozenset({JobStatus.SUBMITTED, JobStatus.QUEUED, JobStatus.PROCESSING})


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def execution_name(job: JobRecord) -> str:
    """The name submit gives the job's execution (`{job_id}-{attempt}`), recorded or not."""
    return job.execution_name or f"{job.job_id}-{job.attempt}"


def verdict(job: JobRecord, now: float, windows: SweepWindows, execution: Execution | None = None) -> Verdict:
    """What to do with `job`; for an in-flight job `execution` is its execution (None: none exists)."""
    age = now - epoch(job.updated_at)
    status = job.status
    if status not in SWEPT_STATUSES:
        return Verdict(SweepAction.LEAVE, "terminal")
    if age < windows.youngest(status):
        return Verdict(SweepAction.LEAVE, "young: its own message or execution may still move it")
    if job.swept_at is not None and now - job.swept_at < windows.resweep_seconds(status):
        return Verdict(SweepAction.LEAVE, "swept recently: the message sent then may still move it")
    if status == JobStatus.SUBMIT_AMBIGUOUS:
        if job.failure is not None and job.failure.message.startswith(NOT_FOUND_PREFIX):
            return Verdict(SweepAction.LEAVE, "looked up already: waits for an operator")
        return Verdict(SweepAction.RECONCILE, "never looked up in GMI's request list")
    if status not in NEEDS_EXECUTION:
        return Verdict(SweepAction.RESUME, f"{status} for {int(age)} s with no message left to move it")
    return _in_flight(job, now, age, windows, execution)


def _in_flight(job: JobRecord, now: float, age: float, windows: SweepWindows, execution: Execution | None) -> Verdict:
    name = execution_name(job)
    if execution is None:
        if job.status == JobStatus.SUBMITTED and not job.execution_name:
            if age < windows.submit_message_seconds:
                return Verdict(SweepAction.LEAVE, "its submit message may still start the execution")
            return Verdict(SweepAction.RESUME, "submitted, but its execution never started")
        failure = Failure(
            category=FailureCategory.WORKFLOW_ERROR,
            message=f"the job was left {job.status}: its workflow execution {name} does not exist (found by the sweeper)",
        )
        return Verdict(SweepAction.RECORD_FAILURE, "no execution", failure)
    if execution.status in STILL_RUNNING:
        return Verdict(SweepAction.LEAVE, "its execution is running")
    stopped_at = execution.stopped_at if execution.stopped_at is not None else now
    if now - stopped_at < windows.ended_execution_seconds:
        return Verdict(SweepAction.LEAVE, "its execution just ended: the failure rule may still record it")
    timed_out = execution.status == "TIMED_OUT"
    detail = f" ({execution.error})" if execution.error else ""
    failure = Failure(
        category=FailureCategory.TIMED_OUT if timed_out else FailureCategory.WORKFLOW_ERROR,
        message=f"workflow execution {name} ended {execution.status.lower()}{detail}, but the job was left "
        f"{job.status} (recorded by the sweeper)",
    )
    return Verdict(SweepAction.RECORD_FAILURE, f"execution {execution.status}", failure)
