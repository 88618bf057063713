"""The Step Functions Standard poll loop and its poll/complete/fail Lambdas (docs/architecture.md)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from i2v.domain.polling import PollPolicy
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction, common_environment
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.queues import dead_letter_queue
from i2v_infra.constructs.records import Records
from i2v_infra.constructs.state_machine import (
    build_definition,
    watch_heartbeat_seconds,
    watch_state,
    worst_case_tail_seconds,
)
from i2v_infra.constructs.watcher import Watcher
from i2v_infra.iam import grant_job_records, grant_put_events, grant_read_secret
from i2v_infra.nag import acknowledge, acknowledge_wildcard_resource


def _seconds(timeout: Duration | None) -> int:
    assert timeout is not None, "every pipeline function has a timeout"
    return int(timeout.to_seconds())


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        code: lambda_.Code,
        records: Records,
        input_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        common = common_environment(config, records)
        gmi_call = config.gmi_timeout_seconds + 5
        # A poll invocation may sleep through short waits (PollPolicy.inline_budget_seconds) before its last GET.
        inline_budget = PollPolicy.model_validate(config.poll_policy).inline_budget_seconds
        polling_environment = {
            **common,
            "POLL_POLICY": config.json_env("poll_policy"),
            "JOB_DEADLINE_SECONDS": str(config.job_deadline_seconds),
        }

        self.watcher = Watcher(
            self,
            "Watcher",
            config=config,
            code=code,
            records=records,
            environment=polling_environment,
            log_retention=log_retention,
        )
        self.poll = PipelineFunction(
            self,
            "Poll",
            code=code,
            handler="i2v.handlers.poll.handler",
            description="i2v poll: GET the GMI request, update the job, return the next wait (fallback, store loop)",
            # It only makes HTTPS GETs and sleeps between them: a sleeping second costs half of 256 MB's.
            memory_size=128,
            timeout=Duration.seconds(max(30, inline_budget + 2 * gmi_call)),
            environment=polling_environment,
            log_retention=log_retention,
        )
        grant_job_records(self.poll.function, records.table, ["GetItem", "UpdateItem"])
        grant_read_secret(self.poll.function, records.api_key_secret)

        self.complete = PipelineFunction(
            self,
            "Complete",
            code=code,
            handler="i2v.handlers.complete.handler",
            description="i2v complete: stream the video into the output bucket, record success, publish",
            memory_size=1024,  # more memory = more network throughput for multi-GB streams
            timeout=Duration.minutes(15),
            environment={
                **common,
                "OUTPUT_BUCKET": output_bucket.bucket_name,
                "OUTPUT_PREFIX": config.output_prefix,
                "INPUT_PREFIX": config.input_prefix,
                "VIDEO_HOST_ALLOWLIST": ",".join(config.video_host_allowlist),
                "ALLOW_PRIVATE_VIDEO_ADDRESSES": "false",
                "MAX_VIDEO_BYTES": str(config.max_video_bytes),
                "VIDEO_PART_SIZE_BYTES": str(config.video_part_size_bytes),
            },
            log_retention=log_retention,
        )
        complete_fn = self.complete.function
        # Multipart upload (Create/UploadPart/Complete are all s3:PutObject) and its clean-up; HEAD of an
        # existing video (GetObject; ListBucket turns a missing key into 404 instead of 403).
        videos = output_bucket.arn_for_objects(f"{config.output_prefix}*")
        complete_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"], resources=[videos])
        )
        acknowledge_wildcard_resource(
            self.complete.role,
            videos,
            "Video keys are derived from upload keys at run time; access is limited to the output prefix.",
        )
        complete_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[output_bucket.bucket_arn])
        )
        grant_job_records(complete_fn, records.table, ["GetItem", "UpdateItem"])
        grant_put_events(complete_fn, records.bus)
        grant_read_secret(complete_fn, records.api_key_secret)

        # Async invocations of fail (from the EventBridge rule) that still fail land here.
        self.failure_dead_letter_queue = dead_letter_queue(
            self, "FailureDeadLetterQueue", key=customer_key(self, config)
        )
        acknowledge(
            self.failure_dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: the target DLQ of the execution-failure rule and the "
            "dead-letter queue of the fail function. An alarm fires when it holds any message.",
        )
        acknowledge(
            self.failure_dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This queue is itself a dead-letter queue (see AwsSolutions-SQS3 above); it has no DLQ of its own.",
        )
        self.fail = PipelineFunction(
            self,
            "Fail",
            code=code,
            handler="i2v.handlers.fail.handler",
            description="i2v fail: record failed/timed_out for the failure path and failed executions",
            memory_size=256,
            timeout=Duration.seconds(30),
            environment=common,
            log_retention=log_retention,
            dead_letter_queue=self.failure_dead_letter_queue,  # async invocations by the failure rule
        )
        fail_fn = self.fail.function
        grant_job_records(fail_fn, records.table, ["GetItem", "UpdateItem"])
        grant_put_events(fail_fn, records.bus)
        # Async invocations keep Lambda's defaults (2 retries, 6 h), then go to the function's DLQ.

        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            # The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small (AWS guidance).
            log_group_name=f"/aws/vendedlogs/states/{Stack.of(self).stack_name}-workflow",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The execution's timeout must outlast everything that may run after the deadline (worst_case_tail_seconds),
        # or a stored video could end up behind a `timed_out` record.
        heartbeat = watch_heartbeat_seconds(self.watcher.visibility_timeout_seconds, self.watcher.max_receive_count)
        tail = worst_case_tail_seconds(
            poll=_seconds(self.poll.function.timeout),
            complete=_seconds(self.complete.function.timeout),
            fail=_seconds(self.fail.function.timeout),
            max_wait_seconds=PollPolicy.model_validate(config.poll_policy).max_wait_seconds,
            watch_after_deadline=self.watcher.longest_stay_after_deadline(
                heartbeat, PollPolicy.model_validate(config.poll_policy).max_wait_seconds
            ),
        )
        definition = Construct(self, "Definition")
        # The watch answers by the deadline; the timeout only bounds a chain that would not.
        watch = watch_state(
            definition,
            self.watcher.queue,
            heartbeat_seconds=heartbeat,
            timeout_seconds=config.job_deadline_seconds + heartbeat,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(
                build_definition(definition, poll=self.poll.function, complete=complete_fn, fail=fail_fn, watch=watch)
            ),
            timeout=Duration.seconds(config.workflow_timeout_seconds(tail)),
            tracing_enabled=True,
            # Every event type, without execution data: the Watch task's parameters carry its task token, and
            # a token lets whoever reads it complete the task. With IncludeExecutionData false AWS logs no
            # input, output or parameters (AWS::StepFunctions::StateMachine LoggingConfiguration); the
            # execution history (DescribeExecution, GetExecutionHistory) keeps them for the operator.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )

        self.watcher.queue.grant_send_messages(self.state_machine)
        self.watcher.answers(self.state_machine)

        sm_role = self.state_machine.role
        for fn in (self.poll.function, complete_fn, fail_fn):
            acknowledge_wildcard_resource(
                sm_role,
                f"{fn.function_arn}:*",
                "CDK's LambdaInvoke grant covers the function's versions and aliases (ARN:*); the role can "
                "invoke only the three pipeline functions.",
            )
        acknowledge(
            sm_role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs vended "
            "log delivery (logs:CreateLogDelivery, PutResourcePolicy, ...) support no resource-level "
            "permissions; AWS requires Resource '*' for them.",
        )
        for fn, why in (
            (self.poll.function, "poll"),
            (complete_fn, "complete"),
        ):
            acknowledge(
                fn,
                "Serverless-LambdaDLQ",
                f"{why} is invoked synchronously by Step Functions only; errors are retried and caught into "
                "RecordFailure by the state machine. A function DLQ applies to asynchronous invocations only.",
            )

        # If the failure path itself fails (or the execution times out / is aborted), record it anyway.
        self.failure_rule = events.Rule(
            self,
            "ExecutionFailedRule",
            description="i2v: failed, timed-out or aborted workflow executions -> fail function",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    fail_fn,
                    dead_letter_queue=self.failure_dead_letter_queue,
                    retry_attempts=8,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
