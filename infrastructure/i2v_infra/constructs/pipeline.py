"""`ImageToVideoPipeline`: the whole S3 -> GMI -> S3 pipeline as one reusable L3 construct."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction
from i2v_infra.constructs.ingestion import Ingestion
from i2v_infra.constructs.keys import acknowledge_queue_key_grant, customer_key, grant_key_use
from i2v_infra.constructs.monitoring import Monitored, Monitoring, watch_queue_age_threshold
from i2v_infra.constructs.previews import Previews
from i2v_infra.constructs.records import Records
from i2v_infra.constructs.storage import Storage
from i2v_infra.constructs.subscribers import EventSchemaRegistry, video_event_pattern
from i2v_infra.constructs.sweeper import Sweeper
from i2v_infra.constructs.webhooks import Webhooks
from i2v_infra.constructs.workflow import Workflow
from i2v_infra.feature_flags import apply_feature_flags


class ImageToVideoPipeline(Construct):
    """Everything the pipeline needs inside one scope.

    Another CDK app can bring its own buckets (``input_bucket`` must be versioned: object versions
    identify jobs) or its own function code (``code``; defaults to the locally bundled asset, whose Lambda
    dependencies come from ``lambda_deps_dir`` if given: i2v_infra.lambda_deps).
    If input and output are the same bucket, the input and output prefixes must not overlap.
    The settings are ``config`` or keyword props (the same keys, validated by the same model; props win).
    Existing buckets, an event bus and a KMS key can also be named in the config (``input_bucket_name``,
    ``output_bucket_name``, ``event_bus_name``, ``kms_key_arn``: docs/deploy.md, "Bring your own resources").
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig | None = None,
        input_bucket: s3.IBucket | None = None,
        output_bucket: s3.IBucket | None = None,
        code: lambda_.Code | None = None,
        lambda_deps_dir: str | os.PathLike[str] | None = None,
        **props: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        apply_feature_flags(self.node)  # before any child: the flags we are tested with, unless the app sets them
        self.config = config = PipelineConfig.with_props(config, props)
        # Given code serves every function; ours keeps the previews function's video libraries to itself.
        previews_code = code
        if code is None:
            from i2v_infra.bundling import lambda_code

            code, previews_code = lambda_code(deps_dir=lambda_deps_dir), lambda_code(True, lambda_deps_dir)
        retention = retention_days(config.log_retention_days)

        self.storage = Storage(self, "Storage", config=config, input_bucket=input_bucket, output_bucket=output_bucket)
        self.records = Records(self, "Records", config=config)
        self.workflow = Workflow(
            self,
            "Workflow",
            config=config,
            code=code,
            records=self.records,
            input_bucket=self.storage.input_bucket,
            output_bucket=self.storage.output_bucket,
            log_retention=retention,
        )
        self.ingestion = Ingestion(
            self,
            "Ingestion",
            config=config,
            code=code,
            records=self.records,
            input_bucket=self.storage.input_bucket,
            output_bucket=self.storage.output_bucket,
            state_machine=self.workflow.state_machine,
            log_retention=retention,
        )
        self.sweeper = Sweeper(
            self,
            "Sweeper",
            config=config,
            code=code,
            records=self.records,
            submit_queue=self.ingestion.queue,
            state_machine=self.workflow.state_machine,
            log_retention=retention,
        )
        self.functions: dict[str, lambda_.IFunction] = {
            "submit": self.ingestion.submit.function,
            "poll": self.workflow.poll.function,
            "watch": self.workflow.watcher.function.function,
            "complete": self.workflow.complete.function,
            "fail": self.workflow.fail.function,
            "sweeper": self.sweeper.function.function,
        }
        # Subscribers (docs/subscribers.md): the bus, its schemas, one-line rules.
        self.bus: events.IEventBus = self.records.bus
        self.schema_registry = EventSchemaRegistry(self, "EventSchemas", source=config.event_source)
        self.webhooks = (
            Webhooks(self, "Webhooks", config=config, bus=self.bus, code=code, log_retention=retention)
            if config.webhooks
            else None
        )
        watcher = self.workflow.watcher
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            target=Monitored(
                submit_queue=self.ingestion.queue,
                dead_letter_queue=self.ingestion.dead_letter_queue,
                failure_dead_letter_queue=self.workflow.failure_dead_letter_queue,
                watch_dead_letter_queue=watcher.dead_letter_queue,
                state_machine=self.workflow.state_machine,
                functions=self.functions,
                watch_queue=watcher.queue,
                watch_queue_age_threshold_seconds=watch_queue_age_threshold(watcher.visibility_timeout_seconds),
                webhook_dead_letter_queue=self.webhooks.dead_letter_queue if self.webhooks else None,
            ),
        )
        self.sweeper.monitored_by(self.monitoring)
        # Poster and animated preview of each stored video, after its Succeeded event (off the critical path).
        self.previews = Previews(
            self,
            "Previews",
            config=config,
            code=previews_code or code,
            records=self.records,
            output_bucket=self.storage.output_bucket,
            alarm_topic=self.monitoring.topic,
            dashboard=self.monitoring.dashboard,
            log_retention=retention,
        )
        self.functions["previews"] = self.previews.function.function
        key = customer_key(self, config)
        if key is not None:  # the customer's key (kms_key_arn): each function may use it, on its own resources
            for child in self.node.find_all():
                if isinstance(child, PipelineFunction):
                    grant_key_use(child.role, key)
            # sends to the watch queue (CDK's grant, with its wildcard KMS actions)
            state_machine_role = self.workflow.state_machine.role
            acknowledge_queue_key_grant(state_machine_role)

    def on_video_ready(self, target: events.IRuleTarget, *, rule_id: str | None = None) -> events.Rule:
        """A rule on the pipeline's bus sending every 'Video Generation Succeeded' event to `target`."""
        return self._subscribe("succeeded", target, rule_id, None)

    def on_video_failed(
        self, target: events.IRuleTarget, *, statuses: Sequence[str] | None = None, rule_id: str | None = None
    ) -> events.Rule:
        """Every 'Video Generation Failed' event, or only those whose `detail.status` is one of `statuses`
        (rejected, failed, timed_out, submit_ambiguous), to `target`."""
        return self._subscribe("failed", target, rule_id, statuses)

    def _subscribe(
        self, kind: str, target: events.IRuleTarget, rule_id: str | None, statuses: Sequence[str] | None
    ) -> events.Rule:
        pattern = video_event_pattern(self.config.event_source, kind, statuses)
        rule_id = rule_id or f"On{kind.capitalize()}{sum(1 for c in self.node.children if isinstance(c, events.Rule))}"
        return events.Rule(self, rule_id, event_bus=self.bus, event_pattern=pattern, targets=[target])


_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
}


def retention_days(days: int) -> logs.RetentionDays:
    """logs.RetentionDays member for a number of days (the config model has checked it is allowed)."""
    return _RETENTION_BY_DAYS[days]
