"""The state machine definition, state for state as docs/architecture.md ("Step Functions contract").

Every JSON path and every value a Choice compares comes from the workflow models (i2v.domain.workflow),
so the definition and the functions cannot disagree about a field's name or spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import (
    COMPLETE_RESULT_PATH,
    ERROR_PATH,
    FAILURE_RECORDED_PATH,
    POLL_RESULT_PATH,
    SQS_MAX_DELAY_SECONDS,
    STORE_ERROR_PATH,
    WATCH_ERROR_PATH,
    CompleteInput,
    CompletePayload,
    PollState,
    VideoNotStoredError,
    WatchMessage,
    json_path,
)

LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    # The invoke call itself timed out on the Step Functions side: transient, like the ones above.
    "Lambda.ClientExecutionTimeoutException",
]
TRANSIENT_ERROR = "TransientError"  # raised by our handlers for retryable conditions
# Complete's TransientError before the video was stored: retried the same way, then back to the poll loop.
NOT_STORED_ERROR = VideoNotStoredError.__name__
# The function itself died (timed out, ran out of memory). Every task here is idempotent (Complete rewrites the
# same key, the record never moves backwards), so one more try beats failing a job whose video may be stored.
CRASH_ERRORS = ["Lambda.Unknown", "Sandbox.Timedout"]


@dataclass(frozen=True)
class RetryPolicy:
    errors: tuple[str, ...]
    interval_seconds: int
    max_attempts: int
    max_delay_seconds: int | None = None

    def longest_waits(self) -> list[int]:
        """The delay before each retry at its longest (FULL jitter only ever shortens it)."""
        waits = [self.interval_seconds * 2**n for n in range(self.max_attempts)]
        return [min(w, self.max_delay_seconds) if self.max_delay_seconds else w for w in waits]


# One list for the definition and for the worst-case arithmetic below (backoff rate 2, full jitter).
TASK_RETRIES = (
    RetryPolicy(tuple(LAMBDA_SERVICE_ERRORS), interval_seconds=2, max_attempts=6, max_delay_seconds=60),
    RetryPolicy(tuple(CRASH_ERRORS), interval_seconds=5, max_attempts=2),
    RetryPolicy((TRANSIENT_ERROR, NOT_STORED_ERROR), interval_seconds=2, max_attempts=5, max_delay_seconds=60),
)


def worst_case_task_seconds(timeout_seconds: int) -> int:
    """A task state's longest life: every retrier used up (each counts on its own), every attempt running
    the function to its timeout, every wait at its longest."""
    attempts = 1 + sum(policy.max_attempts for policy in TASK_RETRIES)
    return attempts * timeout_seconds + sum(sum(policy.longest_waits()) for policy in TASK_RETRIES)


def watch_heartbeat_seconds(watch_visibility_timeout: int, max_receive_count: int) -> int:
    """How long the Watch state waits between two heartbeats before it gives up on the chain of messages: the
    longest delay SQS allows, the redeliveries of a failed look before its DLQ, and a minute for the look itself."""
    return SQS_MAX_DELAY_SECONDS + (max_receive_count - 1) * watch_visibility_timeout + 60


def worst_case_tail_seconds(
    *, poll: int, complete: int, fail: int, max_wait_seconds: int, watch_after_deadline: int = 0
) -> int:
    """The longest the states after the deadline may take (function timeouts in seconds): the Watch whose look
    at the deadline keeps failing (Watcher.longest_stay_after_deadline), a Wait and the fallback Poll after it,
    or the Poll
    that was running, a Wait and the Poll after it (GMI answered done), Complete, the store loop's Poll that
    ends it (Complete ran out of retries on VideoNotStoredError past the deadline), RecordFailure."""
    polls = 3 * worst_case_task_seconds(poll)
    tail = watch_after_deadline + polls + max_wait_seconds
    return tail + worst_case_task_seconds(complete) + worst_case_task_seconds(fail)


def _lambda_task(
    scope: Construct, state_name: str, fn: lambda_.IFunction, result_path: str, payload: sfn.TaskInput | None = None
) -> tasks.LambdaInvoke:
    task = tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=fn,
        payload=payload,  # None: the whole state input ("$")
        payload_response_only=True,  # the result is the handler's return value
        retry_on_service_exceptions=False,  # replaced by the explicit policy below
        result_path=result_path,
    )
    for policy in TASK_RETRIES:
        task.add_retry(
            errors=list(policy.errors),
            interval=Duration.seconds(policy.interval_seconds),
            backoff_rate=2,
            max_attempts=policy.max_attempts,
            max_delay=Duration.seconds(policy.max_delay_seconds) if policy.max_delay_seconds else None,
            jitter_strategy=sfn.JitterType.FULL,
        )
    return task


# Where the Route and AlreadyDone? choices look, and where Wait reads its seconds.
OUTCOME_PATH = json_path(PollState, "poll", "outcome")
NEXT_WAIT_PATH = json_path(PollState, "poll", "next_wait_seconds")
QUEUE_DELAY_PATH = json_path(PollState, "poll", "queue_delay_seconds")
ENDED_BADLY = (PollOutcome.FAILED, PollOutcome.TIMED_OUT)


def not_watchable() -> sfn.Condition:
    """A job the Watch state must not take: its chain of looks already failed once in this execution
    (`$.watch_error`: the fallback keeps looking on the policy's schedule rather than wait out another heartbeat),
    or its state lacks what Watch reads (an execution input written by the previous release's submit code, which
    has no `poll.queue_delay_seconds`: Watch would fail with States.Runtime, which no Catch takes; the fallback
    Poll's result has the field, so the job goes on to Watch after one Poll)."""
    return sfn.Condition.or_(
        sfn.Condition.is_present(WATCH_ERROR_PATH),
        sfn.Condition.is_not_present(QUEUE_DELAY_PATH),
    )


def complete_payload() -> sfn.TaskInput:
    """The Complete task gets exactly CompletePayload's fields: CompleteInput's from the execution state, and
    `store_loop` true (this definition catches VideoNotStoredError)."""
    fields: dict[str, object] = {
        name: sfn.JsonPath.number_at(json_path(PollState, name))
        if field.annotation is int
        else sfn.JsonPath.string_at(json_path(PollState, name))
        for name, field in CompleteInput.model_fields.items()
    }
    store_loop = {"store_loop": True}
    assert set(fields) | set(store_loop) == set(CompletePayload.model_fields)
    return sfn.TaskInput.from_object(fields | store_loop)


def watch_state(
    scope: Construct, queue: sqs.IQueue, *, heartbeat_seconds: int, timeout_seconds: int
) -> sfn.CustomState:
    """Sends the execution state and the task token to the watch queue, delayed by the next wait, and waits for
    the watch function to answer with the poll verdict (i2v.services.watch). CDK's SqsSendMessage takes only a
    fixed delay, hence the state as JSON. TimeoutSeconds is explicit: a task's default is not the same
    everywhere (moto's interpreter gives up after 60 s)."""
    body = {
        f"{name}.$": path
        for name, path in (("task_token", sfn.JsonPath.task_token), ("state", sfn.JsonPath.entire_payload))
    }
    # `due_at` and `look` are the watcher's: the state machine's own message is look 0, due at once sent.
    assert {key.removesuffix(".$") for key in body} | {"due_at", "look"} == set(WatchMessage.model_fields)
    return sfn.CustomState(
        scope,
        "Watch",
        state_json={
            "Type": "Task",
            "Comment": "Looks at GMI through delayed watch-queue messages until the job is no longer waiting",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": queue.queue_url,
                "DelaySeconds.$": json_path(PollState, "poll", "queue_delay_seconds"),
                "MessageBody": body,
            },
            "HeartbeatSeconds": heartbeat_seconds,
            "TimeoutSeconds": timeout_seconds,
            "ResultPath": POLL_RESULT_PATH,
        },
    )


def build_definition(
    scope: Construct,
    *,
    poll: lambda_.IFunction,
    complete: lambda_.IFunction,
    fail: lambda_.IFunction,
    watch: sfn.CustomState,
) -> sfn.IChainable:
    record_failure = _lambda_task(scope, "RecordFailure", fail, FAILURE_RECORDED_PATH)
    record_failure.next(sfn.Succeed(scope, "JobFailed", comment="The job failed; the workflow did its job."))

    # The fallback loop (and the store loop's first step): the poll function, sleeping through short waits.
    wait = sfn.Wait(scope, "Wait", time=sfn.WaitTime.seconds_path(NEXT_WAIT_PATH))
    poll_task = _lambda_task(scope, "Poll", poll, POLL_RESULT_PATH)
    poll_task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
    # The chain of looks stopped answering (heartbeat; moto's interpreter reports it as States.Timeout), or
    # SQS refused the message: look with the poll function instead, after the wait the verdict asked for.
    watch.add_catch(wait, errors=[sfn.Errors.ALL], result_path=WATCH_ERROR_PATH)

    complete_task = _lambda_task(scope, "Complete", complete, COMPLETE_RESULT_PATH, complete_payload())
    # GMI made (and billed) the video: a download that keeps failing goes back to the poll loop, which waits
    # (growing) and sends the job here again, until the deadline (i2v.services.store_later).
    complete_task.add_catch(poll_task, errors=[NOT_STORED_ERROR], result_path=STORE_ERROR_PATH)
    complete_task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
    complete_task.next(sfn.Succeed(scope, "Done"))

    route = (
        sfn.Choice(scope, "Route")
        .when(sfn.Condition.string_equals(OUTCOME_PATH, PollOutcome.SUCCEEDED), complete_task)
        .when(
            sfn.Condition.or_(*(sfn.Condition.string_equals(OUTCOME_PATH, outcome) for outcome in ENDED_BADLY)),
            record_failure,
        )
        .when(not_watchable(), wait)
        .otherwise(watch)
    )
    watch.next(route)
    wait.next(poll_task).next(route)

    # Submit's execution input already says `succeeded` when GMI finished during the POST
    # (ExecutionInput.first classifies the status with the same function as every poll).
    return (
        sfn.Choice(scope, "AlreadyDone?")
        .when(sfn.Condition.string_equals(OUTCOME_PATH, PollOutcome.SUCCEEDED), complete_task)
        .when(not_watchable(), wait)
        .otherwise(watch)
    )
