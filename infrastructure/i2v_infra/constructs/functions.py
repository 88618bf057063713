"""A pipeline Lambda: its own role, log group with retention, tracing, ARM64, the shared asset."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from i2v_infra import lambda_deps
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.records import Records
from i2v_infra.nag import acknowledge_xray

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
assert RUNTIME.name == f"python{lambda_deps.LAMBDA_PYTHON_VERSION}", "bundle wheels for the runtime in use"


def common_environment(config: PipelineConfig, records: Records) -> dict[str, str]:
    """Variables every function gets (docs/architecture.md, "Environment variables")."""
    return {
        "JOBS_TABLE_NAME": records.table.table_name,
        "EVENT_BUS_NAME": records.bus.event_bus_name,
        "EVENT_SOURCE": config.event_source,
        "GMI_BASE_URL": config.gmi_base_url,
        "GMI_API_KEY_SECRET_ID": records.api_key_secret.secret_arn,
        "GMI_MODEL_ID": config.model_id,
        "GMI_TIMEOUT_SECONDS": str(config.gmi_timeout_seconds),
        "POWERTOOLS_SERVICE_NAME": "i2v",
        "POWERTOOLS_METRICS_NAMESPACE": "ImageToVideo",
        **tracing_environment(config),
    }


def tracing_environment(config: PipelineConfig) -> dict[str, str]:
    """Lambda's active tracing is always on; the X-Ray SDK's subsegments only when configured (observability)."""
    return {"POWERTOOLS_TRACE_DISABLED": "false" if config.xray_sdk_tracing else "true"}


class PipelineFunction(Construct):
    """Lambda function + least-privilege role (only its own log group to start with) + log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        description: str,
        memory_size: int,
        timeout: Duration,
        environment: dict[str, str],
        log_retention: logs.RetentionDays,
        dead_letter_queue: sqs.IQueue | None = None,
        tracing: lambda_.Tracing = lambda_.Tracing.ACTIVE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"i2v {construct_id} function: only the resources it touches",
        )
        # Instead of the AWSLambdaBasicExecutionRole managed policy: write to this function's group only.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=handler,
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            environment=environment,
            tracing=tracing,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            dead_letter_queue=dead_letter_queue,
        )
        acknowledge_xray(self.role)
