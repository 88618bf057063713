"""Job records and events: DynamoDB jobs table, EventBridge bus + archive, the GMI API key secret."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.keys import customer_key
from i2v_infra.nag import acknowledge

BY_SOURCE_INDEX = "by-source"
BY_STATUS_INDEX = "by-status"
BY_TIME_CLASS_INDEX = "by-time-class"
# What i2v.adapters.repository reads from by-status without the table (recent_generation_seconds).
BY_STATUS_ATTRIBUTES = ["model", "generation_seconds"]


def table_encryption(key: kms.IKey | None) -> dict[str, Any]:
    """The AWS managed key (aws/dynamodb), or the customer managed key (config kms_key_arn)."""
    if key is None:
        return {"encryption": dynamodb.TableEncryption.AWS_MANAGED}
    return {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": key}


class Records(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig) -> None:
        super().__init__(scope, construct_id)
        data_policy = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY

        # Single table (docs/architecture.md): JOB#, SRC# and BUDGET# items; on-demand; PITR; TTL.
        self.table = dynamodb.Table(
            self,
            "JobsTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            **table_encryption(customer_key(self, config)),
            time_to_live_attribute="expires_at",
            deletion_protection=config.retain_data,
            removal_policy=data_policy,
        )
        # Narrow (issue 25): an index that projects every attribute rewrites its entry on every write of the job
        # item. by-source answers with keys (the CLI reads the records); by-status with what the cold-class
        # history reads. wide_indexes: ALL, as stacks deployed before were built (no in-place change exists).
        wide = config.wide_indexes
        for name, pk, sk, projection, attributes in (
            (BY_SOURCE_INDEX, "source_id", "created_at", dynamodb.ProjectionType.KEYS_ONLY, None),
            (BY_STATUS_INDEX, "status", "updated_at", dynamodb.ProjectionType.INCLUDE, BY_STATUS_ATTRIBUTES),
        ):
            self.table.add_global_secondary_index(
                index_name=name,
                partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL if wide else projection,
                non_key_attributes=None if wide else attributes,
            )
        # Sparse (only successes carry history_key) and narrow (just the time): the polling policy reads the
        # latest 50 successes of a job's time class in about one read unit.
        self.table.add_global_secondary_index(
            index_name=BY_TIME_CLASS_INDEX,
            partition_key=dynamodb.Attribute(name="history_key", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="updated_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["generation_seconds"],
        )

        # Our own bus so subscribers and the archive see only pipeline events, or the customer's (event_bus_name):
        # our events go there, and the archive (of our source only) and every rule of ours are on it.
        self.bus: events.IEventBus = (
            events.EventBus.from_event_bus_name(self, "EventBus", config.event_bus_name)
            if config.event_bus_name
            else events.EventBus(self, "EventBus", description="i2v pipeline job events")
        )
        self.archive = self.bus.archive(
            "Archive",
            description="Replayable copy of every i2v pipeline event",
            event_pattern=events.EventPattern(source=[config.event_source]),
            retention=(
                Duration.days(config.event_archive_retention_days) if config.event_archive_retention_days else None
            ),
        )

        # Created with a random placeholder that never appears in the template; the functions treat an
        # empty api_key as "not configured". docs/deploy.md: put-secret-value sets the real key.
        self.api_key_secret = secretsmanager.Secret(
            self,
            "GmiApiKey",
            description="GMI Cloud API key for the i2v pipeline: set with `aws secretsmanager put-secret-value`",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"api_key": ""}',  # noqa: S106 - the empty placeholder, not a secret
                generate_string_key="unset_placeholder",
                exclude_punctuation=True,
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.api_key_secret,
            "AwsSolutions-SMG4",
            "The secret is an API key issued by GMI Cloud; no rotation Lambda can mint a new one. Operators "
            "rotate it in the GMI console and store it with put-secret-value (docs/deploy.md).",
        )
