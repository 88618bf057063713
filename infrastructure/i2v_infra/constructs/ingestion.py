"""S3 upload -> SQS (with DLQ) -> submit Lambda (partial batch responses, bounded concurrency)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from i2v.domain.manifest import MANIFEST_SUFFIXES
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction, common_environment
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.queues import dead_letter_queue, work_queue
from i2v_infra.constructs.records import BY_STATUS_INDEX, BY_TIME_CLASS_INDEX, Records
from i2v_infra.iam import grant_job_records, grant_put_events, grant_read_secret
from i2v_infra.nag import acknowledge, acknowledge_wildcard_resource

# SQS needs the message hidden for longer than all receives of one batch can take (AWS: >= 6x timeout).
VISIBILITY_TIMEOUT_FACTOR = 6


def submit_timeout(config: PipelineConfig) -> Duration:
    """Each message of a batch may need one GMI call (read timeout + 3 s connect) plus AWS calls."""
    return Duration.seconds(max(60, config.submit_batch_size * (config.gmi_timeout_seconds + 10)))


class Ingestion(Construct):
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
        state_machine: sfn.IStateMachine,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = submit_timeout(config)
        self.dead_letter_queue = dead_letter_queue(self, key=customer_key(self, config))
        self.queue = work_queue(
            self,
            "SubmitQueue",
            visibility_timeout=Duration.seconds(timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            retention_period=Duration.days(4),
            dead_letters=self.dead_letter_queue,
            max_receive_count=config.max_receive_count,
            key=customer_key(self, config),
        )

        # One notification per suffix (S3 filters are case-sensitive and allow one suffix per rule).
        for suffix in config.allowed_suffixes:
            input_bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.SqsDestination(self.queue),
                s3.NotificationKeyFilter(prefix=config.input_prefix, suffix=suffix),
            )
        # Manifests (issue 27): their own notifications, to the same queue; the submit function splits them.
        for suffix in MANIFEST_SUFFIXES:
            input_bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.SqsDestination(self.queue),
                s3.NotificationKeyFilter(prefix=config.manifest_prefix, suffix=suffix),
            )

        environment = {
            **common_environment(config, records),
            "INPUT_PREFIX": config.input_prefix,
            "OUTPUT_BUCKET": output_bucket.bucket_name,
            "OUTPUT_PREFIX": config.output_prefix,
            "MAX_IMAGE_BYTES": str(config.max_image_bytes),
            "PRESIGN_TTL_SECONDS": str(config.image_url_ttl_seconds),
            "END_FRAME_PREFIX": config.end_frame_prefix,
            "MANIFEST_PREFIX": config.manifest_prefix,
            "DEFAULT_SETTINGS": config.json_env("default_settings"),
            "PREFIX_PRESETS": config.json_env("prefix_presets"),
            "GMI_PRICES": config.json_env("gmi_prices"),
            "DAILY_SUBMISSION_CAP": str(config.daily_submission_cap),
            "BUDGET_EXCEEDED_ACTION": config.budget_exceeded_action,
            "DAILY_BUDGET_USD": str(config.daily_budget_usd),
            "PREFIX_BUDGETS": config.json_env("prefix_budgets"),
            "UNPRICED_JOBS_UNDER_BUDGET": config.unpriced_jobs_under_budget,
            "SUBMIT_RATE_PER_MINUTE": str(config.submit_rate_per_minute),
            "GMI_OUTAGE_PATIENCE_SECONDS": str(config.gmi_outage_patience_seconds),
            "SUBMIT_QUEUE_URL": self.queue.queue_url,
            "STATE_MACHINE_ARN": state_machine.state_machine_arn,
            "POLL_POLICY": config.json_env("poll_policy"),
            "JOB_DEADLINE_SECONDS": str(config.job_deadline_seconds),
        }
        self.submit = PipelineFunction(
            self,
            "Submit",
            code=code,
            handler="i2v.handlers.submit.handler",
            description="i2v submit: validate the upload, claim the job, POST it to GMI, start the workflow",
            memory_size=512,
            timeout=timeout,
            environment=environment,
            log_retention=log_retention,
        )
        fn = self.submit.function
        fn.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=config.submit_batch_size,
                max_batching_window=Duration.seconds(1),
                max_concurrency=config.submit_concurrency,
                report_batch_item_failures=True,
            )
        )
        # Deferrals (daily budget) send the message back to the queue with a delay.
        self.queue.grant_send_messages(fn)
        # HEAD, ranged GET and the presigned GET that GMI performs all need Get(Object|ObjectVersion).
        uploads = input_bucket.arn_for_objects(f"{config.input_prefix}*")
        # End frames (metadata `end_frame`) live under their own prefix, so uploading one starts no job.
        end_frames = input_bucket.arn_for_objects(f"{config.end_frame_prefix}*")
        # Manifests, and the images they name that live beside them (their uploads start no job of their own).
        manifests = input_bucket.arn_for_objects(f"{config.manifest_prefix}*")
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[uploads, end_frames, manifests]
            )
        )
        for readable in (uploads, end_frames, manifests):
            acknowledge_wildcard_resource(
                self.submit.role,
                readable,
                "Uploads have arbitrary key names; read access is limited to the input and end-frame prefixes.",
            )
        # Without ListBucket S3 answers 403 instead of 404 for a deleted upload (source_missing).
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[input_bucket.bucket_arn]))
        grant_job_records(
            fn,
            records.table,
            ["GetItem", "PutItem", "UpdateItem"],
            # recent successes teach the polling policy (per time class, model-wide when cold); by-source is the CLI's
            indexes=[BY_TIME_CLASS_INDEX, BY_STATUS_INDEX],
        )
        grant_put_events(fn, records.bus)
        grant_read_secret(fn, records.api_key_secret)
        state_machine.grant_start_execution(fn)

        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This queue is the dead-letter queue of the submit queue; a DLQ of a DLQ would hide messages. "
            "The DeadLetterQueueNotEmpty alarm fires on its first message.",
        )
        acknowledge(
            fn,
            "Serverless-LambdaDLQ",
            "submit is invoked synchronously by its SQS event source mapping; a function DLQ applies only to "
            "asynchronous invocations. Failed messages go to the submit queue's redrive DLQ.",
        )
        acknowledge(
            fn,
            "Serverless-LambdaEventSourceMappingDestination",
            "SQS event source mappings do not support on-failure destinations; the queue's redrive policy "
            f"moves a message to the DLQ after {config.max_receive_count} receives.",
        )
