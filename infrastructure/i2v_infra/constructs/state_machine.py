"""The state machine definition, state for state as docs/architecture.md ("Step Functions contract").

Every JSON path and every value a Choice compares comes from the workflow models (i2v.domain.workflow),
so the definition and the functions cannot disagree about a field's name or spelling.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from i2v.domain.polling import PollOutcome
from i2v.domain.workflow import (
    COMPLETE_RESULT_PATH,
    ERROR_PATH,
    FAILURE_RECORDED_PATH,
    POLL_RESULT_PATH,
    CompleteInput,
    PollState,
    json_path,
)

LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
TRANSIENT_ERROR = "TransientError"  # raised by our handlers for retryable conditions
# The function itself died (timed out, ran out of memory). Every task here is idempotent (Complete rewrites the
# same key, the record never moves backwards), so one more try beats failing a job whose video may be stored.
CRASH_ERRORS = ["Lambda.Unknown", "Sandbox.Timedout"]


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
    task.add_retry(
        errors=LAMBDA_SERVICE_ERRORS,
        interval=Duration.seconds(2),
        backoff_rate=2,
        max_attempts=6,
        max_delay=Duration.seconds(60),
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=CRASH_ERRORS,
        interval=Duration.seconds(5),
        backoff_rate=2,
        max_attempts=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=[TRANSIENT_ERROR],
        interval=Duration.seconds(2),
        backoff_rate=2,
        max_attempts=5,
        max_delay=Duration.seconds(60),
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


# Where the Route and AlreadyDone? choices look, and where Wait reads its seconds.
OUTCOME_PATH = json_path(PollState, "poll", "outcome")
NEXT_WAIT_PATH = json_path(PollState, "poll", "next_wait_seconds")
ENDED_BADLY = (PollOutcome.FAILED, PollOutcome.TIMED_OUT)


def complete_payload() -> sfn.TaskInput:
    """The Complete task gets exactly CompleteInput's fields, taken from the execution state."""
    fields = {
        name: sfn.JsonPath.number_at(json_path(PollState, name))
        if field.annotation is int
        else sfn.JsonPath.string_at(json_path(PollState, name))
        for name, field in CompleteInput.model_fields.items()
    }
    return sfn.TaskInput.from_object(fields)


def build_definition(
    scope: Construct, *, poll: lambda_.IFunction, complete: lambda_.IFunction, fail: lambda_.IFunction
) -> sfn.IChainable:
    record_failure = _lambda_task(scope, "RecordFailure", fail, FAILURE_RECORDED_PATH)
    record_failure.next(sfn.Succeed(scope, "JobFailed", comment="The job failed; the workflow did its job."))

    complete_task = _lambda_task(scope, "Complete", complete, COMPLETE_RESULT_PATH, complete_payload())
    complete_task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
    complete_task.next(sfn.Succeed(scope, "Done"))

    wait = sfn.Wait(scope, "Wait", time=sfn.WaitTime.seconds_path(NEXT_WAIT_PATH))
    poll_task = _lambda_task(scope, "Poll", poll, POLL_RESULT_PATH)
    poll_task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
    route = (
        sfn.Choice(scope, "Route")
        .when(sfn.Condition.string_equals(OUTCOME_PATH, PollOutcome.SUCCEEDED), complete_task)
        .when(
            sfn.Condition.or_(*(sfn.Condition.string_equals(OUTCOME_PATH, outcome) for outcome in ENDED_BADLY)),
            record_failure,
        )
        .otherwise(wait)
    )
    wait.next(poll_task).next(route)

    # Submit's execution input already says `succeeded` when GMI finished during the POST
    # (ExecutionInput.first classifies the status with the same function as every poll).
    return (
        sfn.Choice(scope, "AlreadyDone?")
        .when(sfn.Condition.string_equals(OUTCOME_PATH, PollOutcome.SUCCEEDED), complete_task)
        .otherwise(wait)
    )
