"""Narrow grants shared by the function constructs (explicit statements where CDK grants are broader)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager


def grant_job_records(
    fn: lambda_.IFunction, table: dynamodb.ITable, actions: Sequence[str], *, indexes: Sequence[str] = ()
) -> None:
    """Item-level actions on the jobs table; Query only on the named GSIs.

    TransactWriteItems has no IAM action of its own: DynamoDB authorizes each Put/Update/ConditionCheck.
    """
    fn.add_to_role_policy(iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in actions], resources=[table.table_arn]))
    if indexes:
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{name}" for name in indexes]
            )
        )


def grant_put_events(fn: lambda_.IFunction, bus: events.IEventBus) -> None:
    bus.grant_put_events_to(fn)


def grant_read_secret(fn: lambda_.IFunction, secret: secretsmanager.ISecret) -> None:
    """GetSecretValue only (CDK's grant_read adds DescribeSecret, which the functions never call)."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]))
