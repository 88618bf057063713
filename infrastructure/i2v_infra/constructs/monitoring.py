"""Alarms to an encrypted SNS topic (optional e-mail subscription) and the operations dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from i2v.domain.metric_names import MetricName
from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.budget_alarms import budget_alarms, spend_widget
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.queues import queue_encryption
from i2v_infra.nag import acknowledge

METRICS_NAMESPACE = "ImageToVideo"  # POWERTOOLS_METRICS_NAMESPACE
SERVICE_DIMENSION = {"service": "i2v"}  # Powertools adds the service dimension to every EMF metric
FIVE_MINUTES = Duration.minutes(5)


# The functions' own metrics on the dashboard's Jobs graph.
JOB_GRAPH = (
    MetricName.JOBS_SUBMITTED,
    MetricName.JOBS_SUCCEEDED,
    MetricName.JOBS_FAILED,
    MetricName.JOBS_TIMED_OUT,
    MetricName.JOBS_REJECTED,
    MetricName.SUBMIT_AMBIGUOUS,
)


def job_metric(name: MetricName, label: str | None = None) -> cw.Metric:
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=str(name),
        dimensions_map=SERVICE_DIMENSION,
        statistic=cw.Stats.SUM,
        period=FIVE_MINUTES,
        label=label or name,
    )


def alarm_on_any(
    scope: Construct, construct_id: str, metric: cw.IMetric, description: str, topic: sns.ITopic
) -> cw.Alarm:
    """An alarm when the metric is above 0 in one period, notifying the alarm topic when it fires and when it clears
    (every alarm of the stack but the budgets' and the watch queue age's, whose thresholds are not 0)."""
    alarm = cw.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=0,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    action = cw_actions.SnsAction(topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    return alarm


@dataclass(frozen=True)
class Monitored:
    submit_queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue
    failure_dead_letter_queue: sqs.IQueue
    watch_dead_letter_queue: sqs.IQueue
    state_machine: sfn.StateMachine
    functions: dict[str, lambda_.IFunction]  # name -> function, "submit" included
    watch_queue: sqs.IQueue
    # A message older than this on the watch queue: nothing is taking the looks (watch_queue_age_threshold).
    watch_queue_age_threshold_seconds: int
    webhook_dead_letter_queue: sqs.IQueue | None = None  # only with configured webhooks


def watch_queue_age_threshold(visibility_timeout_seconds: int) -> int:
    """A look's message is at most SQS's longest delay old when it becomes visible; a receive that failed once
    brings it back a visibility timeout later. Older than both: the watch function is throttled, disabled or
    failing every look, and each job waits for its Watch state's heartbeat to run out."""
    return SQS_MAX_DELAY_SECONDS + visibility_timeout_seconds


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, target: Monitored) -> None:
        super().__init__(scope, construct_id)
        # The customer's key (kms_key_arn), else our own only with alarm_topic_cmk (the config allows one of them).
        self.key: kms.IKey | None = customer_key(self, config) or (
            self._topic_key() if config.alarm_topic_cmk else None
        )
        self.topic = sns.Topic(self, "AlarmTopic", master_key=self.key, enforce_ssl=True, display_name="i2v alarms")
        if self.key is None:
            acknowledge(
                self.topic,
                "AwsSolutions-SNS2",
                "Alarm notifications carry alarm names, states and metric values only (no job data, no secrets), "
                "over TLS (the topic denies plain transport). Encryption at rest needs a customer managed key "
                "($1.00 a month, a third of an idle stack's bill): opt in with alarm_topic_cmk.",
            )
        # enforce_ssl writes a topic policy holding only its Deny; CloudWatch publishes as a service principal
        # and needs an explicit Allow, scoped to this account's alarms, or no alarm is ever delivered.
        stack = Stack.of(self)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        if config.alarm_email:
            delivery_dlq = sqs.Queue(
                self,
                "AlarmEmailDeadLetterQueue",
                **queue_encryption(customer_key(self, config)),
                enforce_ssl=True,
            )
            acknowledge(
                delivery_dlq,
                "AwsSolutions-SQS3",
                "This queue is the dead-letter queue of the alarm e-mail subscription; it has no DLQ itself.",
            )
            acknowledge(
                delivery_dlq,
                "Serverless-SQSRedrivePolicy",
                "This queue is the dead-letter queue of the alarm e-mail subscription; a DLQ of a DLQ would "
                "only hide undeliverable notifications further.",
            )
            self.topic.add_subscription(
                subscriptions.EmailSubscription(config.alarm_email, dead_letter_queue=delivery_dlq)
            )
        action = cw_actions.SnsAction(self.topic)
        # Every dead-letter queue of the stack: name, queue, what its first message means.
        dead_letter_queues: list[tuple[str, sqs.IQueue, str]] = [
            (
                "DeadLetterQueueNotEmpty",
                target.dead_letter_queue,
                "Upload notifications failed max_receive_count times; inspect and redrive the DLQ.",
            ),
            (
                "FailureDeadLetterQueueNotEmpty",
                target.failure_dead_letter_queue,
                "A failed workflow execution could not be recorded by the fail function.",
            ),
            (
                "WatchDeadLetterQueueNotEmpty",
                target.watch_dead_letter_queue,
                "A job's look kept failing; its Watch state hands the job to the fallback Poll loop when its "
                "heartbeat runs out (see the watch function's logs).",
            ),
        ]
        if target.webhook_dead_letter_queue is not None:
            dead_letter_queues.append(
                (
                    "WebhookDeadLetterQueueNotEmpty",
                    target.webhook_dead_letter_queue,
                    "A webhook delivery failed after every retry; the event is in the DLQ (inspect, redrive).",
                )
            )
        if config.alarm_email:
            dead_letter_queues.append(
                (
                    "AlarmEmailDeadLetterQueueNotEmpty",
                    delivery_dlq,
                    "An alarm notification could not be delivered to the e-mail subscription.",
                )
            )

        submit = target.functions["submit"]
        sm = target.state_machine
        execution_problems = cw.MathExpression(
            expression="FILL(failed, 0) + FILL(timedout, 0)",
            using_metrics={
                "failed": sm.metric_failed(period=FIVE_MINUTES),
                "timedout": sm.metric_timed_out(period=FIVE_MINUTES),
            },
            label="Executions failed or timed out",
            period=FIVE_MINUTES,
        )
        definitions: list[tuple[str, cw.IMetric, str]] = [
            *(
                (
                    name,
                    queue.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(1), statistic=cw.Stats.MAXIMUM
                    ),
                    description,
                )
                for name, queue, description in dead_letter_queues
            ),
            ("ExecutionsFailed", execution_problems, "Workflow executions failed or timed out (not job failures)."),
            (
                "SubmitErrors",
                submit.metric_errors(period=FIVE_MINUTES, statistic=cw.Stats.SUM),
                "The submit function raised errors.",
            ),
            (
                "SubmitAmbiguous",
                job_metric(MetricName.SUBMIT_AMBIGUOUS),
                "A GMI submission may or may not have been accepted; the job waits for an operator (i2v retry).",
            ),
            (
                "UnknownGmiStatus",
                job_metric(MetricName.UNKNOWN_GMI_STATUS),
                "GMI reported a status its documentation does not list; jobs keep polling (see the poll logs).",
            ),
        ]
        self.alarms: dict[str, cw.Alarm] = {}
        for alarm in budget_alarms(self, config):  # 80 % and 100 % of each dollar budget (issue 25)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[alarm.node.id] = alarm
        for name, metric, description in definitions:
            self.alarms[name] = alarm_on_any(self, name, metric, description, self.topic)
        age_threshold = target.watch_queue_age_threshold_seconds
        watch_age = cw.Alarm(
            self,
            "WatchQueueOldestMessageAge",
            metric=target.watch_queue.metric_approximate_age_of_oldest_message(
                period=Duration.minutes(1), statistic=cw.Stats.MAXIMUM
            ),
            threshold=age_threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"A look waited more than {age_threshold} s (SQS's longest delay and one redelivery): the watch "
                "function is throttled, disabled or failing; jobs fall back to Poll only after the heartbeat."
            ),
        )
        watch_age.add_alarm_action(action)
        watch_age.add_ok_action(action)
        self.alarms["WatchQueueOldestMessageAge"] = watch_age

        # Opt-in (config dashboard): $3.00 a month, more than the rest of an idle stack together.
        self.dashboard = self._dashboard(target, config) if config.dashboard else None

    def _topic_key(self) -> kms.Key:
        """CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key: a CMK it may use."""
        key = kms.Key(
            self,
            "AlarmTopicKey",
            enable_key_rotation=True,
            description="i2v alarm topic",
            removal_policy=RemovalPolicy.DESTROY,  # deletion is scheduled (30-day waiting period)
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        return key

    def _dashboard(self, target: Monitored, config: PipelineConfig) -> cw.Dashboard:
        sm = target.state_machine
        dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.hours(24))
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Jobs",
                left=[job_metric(name) for name in JOB_GRAPH],
                width=12,
            ),
            cw.GraphWidget(
                title="Queues",
                left=[
                    target.submit_queue.metric_approximate_number_of_messages_visible(label="Submit queue depth"),
                    target.submit_queue.metric_approximate_age_of_oldest_message(label="Oldest message age (s)"),
                    target.dead_letter_queue.metric_approximate_number_of_messages_visible(label="DLQ"),
                    target.failure_dead_letter_queue.metric_approximate_number_of_messages_visible(label="Failure DLQ"),
                    target.watch_dead_letter_queue.metric_approximate_number_of_messages_visible(label="Watch DLQ"),
                    target.watch_queue.metric_approximate_age_of_oldest_message(label="Oldest look age (s)"),
                    *(
                        [
                            target.webhook_dead_letter_queue.metric_approximate_number_of_messages_visible(
                                label="Webhook DLQ"
                            )
                        ]
                        if target.webhook_dead_letter_queue is not None
                        else []
                    ),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Workflow executions",
                left=[
                    sm.metric_started(),
                    sm.metric_succeeded(),
                    sm.metric_failed(),
                    sm.metric_timed_out(),
                    sm.metric_aborted(),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Lambda errors",
                left=[fn.metric_errors(label=name) for name, fn in target.functions.items()],
                right=[fn.metric_throttles(label=f"{name} throttles") for name, fn in target.functions.items()],
                width=12,
            ),
            cw.GraphWidget(
                title="Lambda duration p95 (ms)",
                left=[fn.metric_duration(statistic="p95", label=name) for name, fn in target.functions.items()],
                width=12,
            ),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=12),
        )
        if (spend := spend_widget(config)) is not None:
            dashboard.add_widgets(spend)
        return dashboard
