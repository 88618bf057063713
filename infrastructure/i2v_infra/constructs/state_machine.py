"""The state machine definition, state for state as docs/architecture.md ("Step Functions contract")."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

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


def build_definition(
    scope: Construct, *, poll: lambda_.IFunction, complete: lambda_.IFunction, fail: lambda_.IFunction
) -> sfn.IChainable:
    record_failure = _lambda_task(scope, "RecordFailure", fail, "$.failure_recorded")
    record_failure.next(sfn.Succeed(scope, "JobFailed", comment="The job failed; the workflow did its job."))

    complete_task = _lambda_task(
        scope,
        "Complete",
        complete,
        "$.complete",
        sfn.TaskInput.from_object(
            {
                "job_id": sfn.JsonPath.string_at("$.job_id"),
                "request_id": sfn.JsonPath.string_at("$.request_id"),
                "attempt": sfn.JsonPath.number_at("$.attempt"),
            }
        ),
    )
    complete_task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path="$.error")
    complete_task.next(sfn.Succeed(scope, "Done"))

    wait = sfn.Wait(scope, "Wait", time=sfn.WaitTime.seconds_path("$.poll.next_wait_seconds"))
    poll_task = _lambda_task(scope, "Poll", poll, "$.poll")
    poll_task.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path="$.error")
    route = (
        sfn.Choice(scope, "Route")
        .when(sfn.Condition.string_equals("$.poll.outcome", "succeeded"), complete_task)
        .when(
            sfn.Condition.or_(
                sfn.Condition.string_equals("$.poll.outcome", "failed"),
                sfn.Condition.string_equals("$.poll.outcome", "timed_out"),
            ),
            record_failure,
        )
        .otherwise(wait)
    )
    wait.next(poll_task).next(route)

    return (
        sfn.Choice(scope, "AlreadyDone?")
        .when(sfn.Condition.string_equals("$.gmi_status", "success"), complete_task)
        .otherwise(wait)
    )
