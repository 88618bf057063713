"""Previews: a rule on the bus sends each Succeeded event to the previews function, off the critical path.

The function reads the stored video with ranged GETs, writes `<video>.frame.jpg` and `<video>.preview.webp`
beside it, records them on the job and publishes 'Video Preview Ready'. No retry loop: an undecodable video
is a recorded outcome, not an error; an invocation that fails anyway (S3 or DynamoDB still failing after
boto3's retries, a timeout) is not retried by Lambda (`retry_attempts=0`) and goes to the dead-letter queue,
whose first message raises an alarm, as does the UndecodableVideos metric.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from i2v.domain.metric_names import MetricName
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction, common_environment
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.monitoring import alarm_on_any, job_metric
from i2v_infra.constructs.queues import dead_letter_queue
from i2v_infra.constructs.records import Records
from i2v_infra.constructs.subscribers import video_event_pattern
from i2v_infra.iam import grant_job_records, grant_put_events
from i2v_infra.nag import acknowledge, acknowledge_wildcard_resource

HANDLER = "i2v.handlers.previews.handler"
# Decoding five seconds of a 4K video and encoding the WebP takes seconds; more memory is more CPU on Lambda.
MEMORY_MB = 1536
TIMEOUT = Duration.minutes(5)


class Previews(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        code: lambda_.Code,
        records: Records,
        output_bucket: s3.IBucket,
        alarm_topic: sns.ITopic,
        dashboard: cw.Dashboard | None,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(self, key=customer_key(self, config))
        for rule, why in (
            ("AwsSolutions-SQS3", "This queue is itself a dead-letter queue: Succeeded events whose previews "),
            ("Serverless-SQSRedrivePolicy", "This queue is itself a dead-letter queue: Succeeded events whose "),
        ):
            acknowledge(self.dead_letter_queue, rule, why + "could not be made (redrive them to the function).")
        common = common_environment(config, records)
        environment = {key: common[key] for key in ("JOBS_TABLE_NAME", "EVENT_BUS_NAME", "EVENT_SOURCE")}
        for key in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_TRACE_DISABLED"):
            environment[key] = common[key]
        self.function = PipelineFunction(
            self,
            "Function",
            code=code,
            handler=HANDLER,
            description="i2v previews: poster frame and animated WebP from the stored video (after Succeeded)",
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            environment=environment,
            log_retention=log_retention,
            dead_letter_queue=self.dead_letter_queue,
        )
        fn = self.function.function
        # Lambda does not retry a failed preview: the DLQ keeps it (see the module docstring).
        fn.configure_async_invoke(retry_attempts=0, max_event_age=Duration.hours(6))
        acknowledge(
            fn,
            "Serverless-LambdaAsyncFailureDestination",
            "The function's DeadLetterConfig (the previews DLQ, alarmed) receives its failed asynchronous "
            "invocations; an on-failure destination would be a second copy of the same.",
        )
        videos = output_bucket.arn_for_objects(f"{config.output_prefix}*")
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[videos]))
        acknowledge_wildcard_resource(
            self.function.role,
            videos,
            "Video keys are derived from upload keys at run time; access is limited to the output prefix.",
        )
        grant_job_records(fn, records.table, ["GetItem", "UpdateItem"])
        grant_put_events(fn, records.bus)
        self.rule = events.Rule(
            self,
            "OnSucceeded",
            description="i2v previews: every 'Video Generation Succeeded' event -> the previews function",
            event_bus=records.bus,
            event_pattern=video_event_pattern(config.event_source, "succeeded"),
            targets=[
                targets.LambdaFunction(
                    fn, dead_letter_queue=self.dead_letter_queue, retry_attempts=8, max_event_age=Duration.hours(6)
                )
            ],
        )
        self.alarms = {
            "UndecodableVideos": alarm_on_any(
                self,
                "UndecodableVideosAlarm",
                job_metric(MetricName.UNDECODABLE_VIDEOS),
                "A stored video could not be decoded for its previews (reason on the job: preview_failure); the "
                "video itself was delivered.",
                alarm_topic,
            ),
            "PreviewsDeadLetterQueueNotEmpty": alarm_on_any(
                self,
                "DeadLetterQueueAlarm",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic=cw.Stats.MAXIMUM
                ),
                "Previews could not be made for a succeeded job (see the previews function's logs).",
                alarm_topic,
            ),
        }
        if dashboard is None:  # opt-in (config `dashboard`)
            return
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Previews",
                left=[job_metric(MetricName.PREVIEWS_MADE), job_metric(MetricName.UNDECODABLE_VIDEOS)],
                right=[self.dead_letter_queue.metric_approximate_number_of_messages_visible(label="Previews DLQ")],
                width=12,
            )
        )
