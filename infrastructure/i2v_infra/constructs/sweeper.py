"""The sweeper: a function EventBridge Scheduler invokes every few minutes, so no job is left non-terminal
with nothing watching it (docs/architecture.md, "The sweeper")."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from i2v.domain.metric_names import SWEEPER_ACTIONS, MetricName
from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction, common_environment
from i2v_infra.constructs.ingestion import VISIBILITY_TIMEOUT_FACTOR, submit_timeout
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.monitoring import Monitoring, alarm_on_any, job_metric
from i2v_infra.constructs.queues import dead_letter_queue
from i2v_infra.constructs.records import BY_STATUS_INDEX, Records
from i2v_infra.iam import grant_job_records, grant_put_events
from i2v_infra.nag import acknowledge, acknowledge_wildcard_resource


def submit_message_seconds(config: PipelineConfig) -> int:
    """The longest a submit-queue message can still move its job: every receive up to max_receive_count, each
    after a visibility timeout, after the longest delay SQS allows (i2v.domain.sweep.SweepWindows)."""
    visibility = int(submit_timeout(config).to_seconds()) * VISIBILITY_TIMEOUT_FACTOR
    return config.max_receive_count * visibility + SQS_MAX_DELAY_SECONDS


def sweep_timeout_seconds(config: PipelineConfig) -> int:
    """Shorter than the interval, so two sweeps never overlap."""
    return min(120, config.sweep_interval_minutes * 60 - 10)


class Sweeper(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        code: lambda_.Code,
        records: Records,
        submit_queue: sqs.IQueue,
        state_machine: sfn.StateMachine,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = PipelineFunction(
            self,
            "Sweeper",
            code=code,
            handler="i2v.handlers.sweeper.handler",
            description="i2v sweeper: moves on every non-terminal job that nothing watches any more",
            memory_size=256,
            timeout=Duration.seconds(sweep_timeout_seconds(config)),
            environment={
                **common_environment(config, records),
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "SUBMIT_QUEUE_URL": submit_queue.queue_url,
                "SWEEP_SUBMIT_MESSAGE_SECONDS": str(submit_message_seconds(config)),
            },
            log_retention=log_retention,
        )
        fn = self.function.function
        interval = config.sweep_interval_minutes
        # BatchGetItem: by-status projects only what its own queries read; whole records come from the table.
        grant_job_records(fn, records.table, ["GetItem", "BatchGetItem", "UpdateItem"], indexes=[BY_STATUS_INDEX])
        grant_put_events(fn, records.bus)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[submit_queue.queue_arn]))
        # DescribeExecution of this state machine's executions only (arn:...:execution:<state machine name>:*).
        stack = Stack.of(self)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        fn.add_to_role_policy(iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions]))
        acknowledge_wildcard_resource(
            self.function.role,
            executions,
            "Execution names are job ids known only at run time; DescribeExecution is limited to the executions "
            "of the pipeline's own state machine.",
        )
        self.dead_letter_queue = dead_letter_queue(self, "ScheduleDeadLetterQueue", key=customer_key(self, config))
        # Scheduler invokes Lambda asynchronously: a failed run is not retried by Lambda (a retry could overlap
        # the next run); the next scheduled run is the retry. A failed run's event goes to the schedule's DLQ,
        # so one alarm (on that queue) covers both a run that failed and one Scheduler could not start.
        fn.configure_async_invoke(
            retry_attempts=0,
            max_event_age=Duration.seconds(max(60, interval * 60)),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        for finding in ("Serverless-LambdaDLQ",):
            acknowledge(
                fn,
                finding,
                "Invoked asynchronously by EventBridge Scheduler with no Lambda retries: the next scheduled run is "
                "the retry. Its on-failure destination (the schedule's alarmed dead-letter queue) takes a failed "
                "run's event; a function DLQ would duplicate it.",
            )

        # The schedule: its role may invoke this function and write to its dead-letter queue, nothing else.
        for finding, why in (
            ("AwsSolutions-SQS3", "This queue is itself a dead-letter queue (the sweeper schedule's)."),
            ("Serverless-SQSRedrivePolicy", "This queue is itself a dead-letter queue; it has no DLQ of its own."),
        ):
            acknowledge(self.dead_letter_queue, finding, why)
        self.role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="i2v sweeper schedule: invokes the sweeper function only",
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn]))
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letter_queue.queue_arn])
        )
        key = customer_key(self, config)
        if key is not None:  # the DLQ is under the customer's key: sending needs a data key (SSE-KMS)
            self.role.add_to_policy(
                iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])
            )
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            description="i2v: run the sweeper",
            schedule_expression=f"rate({interval} minute{'s' if interval > 1 else ''})",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=fn.function_arn,
                role_arn=self.role.role_arn,
                # A missed run is worth retrying only until the next one starts.
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=max(60, interval * 60), maximum_retry_attempts=2
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn),
            ),
        )

    def monitored_by(self, monitoring: Monitoring) -> None:
        """The sweeper's alarms on the alarm topic (monitoring.py's pattern: threshold 0, one period) and its
        graph on the dashboard."""
        acted = job_metric(MetricName.SWEEPER_ACTED)
        definitions: list[tuple[str, cw.IMetric, str]] = [
            (
                "SweeperActed",
                acted,
                "The sweeper moved on a job nothing was watching (reconciled, resumed, or its end recorded): "
                "something upstream lost it; see the sweeper's logs.",
            ),
            (
                "SweeperScheduleDeadLetterQueueNotEmpty",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic=cw.Stats.MAXIMUM
                ),
                "A sweeper run failed, or EventBridge Scheduler could not invoke it (not retried: the next scheduled "
                "run sweeps again); see the sweeper's logs.",
            ),
        ]
        for name, metric, description in definitions:
            monitoring.alarms[name] = alarm_on_any(self, name, metric, description, monitoring.topic)
        if monitoring.dashboard is None:  # opt-in (config `dashboard`)
            return
        monitoring.dashboard.add_widgets(
            cw.GraphWidget(
                title="Sweeper",
                left=[job_metric(name) for name in SWEEPER_ACTIONS],
                right=[
                    self.dead_letter_queue.metric_approximate_number_of_messages_visible(label="Sweeper schedule DLQ")
                ],
                width=12,
            )
        )
