"""The customer managed KMS key (config `kms_key_arn`): imported once per stack, and what our roles may do with it.

The key is the customer's: we never change its policy (an imported key has none we can write). What the key
policy must allow is in docs/deploy.md, "A customer managed KMS key".
"""

from __future__ import annotations

import hashlib
from typing import cast

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from i2v_infra.config import ConfigError, PipelineConfig
from i2v_infra.nag import acknowledge

# DynamoDB (read and write the table), S3 (SSE-KMS objects: read, write, multipart), SQS (send, receive).
# CDK's own encrypt/decrypt grant adds kms:ReEncrypt* as well; these are the calls the services make.
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
# CDK's SQS grants on a KMS-encrypted queue add these wildcard actions to the grantee (key.grantEncryptDecrypt).
CDK_QUEUE_KEY_WILDCARDS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def customer_key(scope: Construct, config: PipelineConfig) -> kms.IKey | None:
    """The configured key, imported once per stack (every construct asks here), or None: AWS's keys."""
    if config.kms_key_arn is None:
        return None
    stack = Stack.of(scope)
    _check_same_region(stack, config.kms_key_arn)
    construct_id = "I2vCustomerKey" + hashlib.sha256(config.kms_key_arn.encode()).hexdigest()[:8]
    found = stack.node.try_find_child(construct_id)
    if found is not None:
        return cast(kms.IKey, found)
    key = kms.Key.from_key_arn(stack, construct_id, config.kms_key_arn)
    # S3 sending the input bucket's notifications to the submit queue needs the key too; CDK cannot write an
    # imported key's policy and warns once per notification: docs/deploy.md lists that grant with the others.
    Annotations.of(key).acknowledge_warning(
        "@aws-cdk/aws-s3-notifications:sqsKMSPermissionsNotAdded",
        "The key policy grants s3.amazonaws.com kms:GenerateDataKey* and kms:Decrypt (docs/deploy.md).",
    )
    return key


def _check_same_region(stack: Stack, key_arn: str) -> None:
    """SQS, SNS, S3 and DynamoDB take a key of their own region only (an environment-agnostic stack: not known)."""
    region = key_arn.split(":")[3]
    if not Token.is_unresolved(stack.region) and stack.region != region:
        raise ConfigError(
            f"i2v.kms_key_arn: the key is in {region}, the stack in {stack.region}: use a key of the stack's region"
        )


def grant_key_use(role: iam.IRole, key: kms.IKey) -> None:
    """The function's own use of the key (the table, objects in our buckets, its queues), on this key only."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(KEY_USE_ACTIONS), resources=[key.key_arn]))
    acknowledge_queue_key_grant(role)


def acknowledge_queue_key_grant(role: iam.IRole) -> None:
    """CDK's grants on a queue under the key carry two wildcard KMS actions, on that one key."""
    for action in CDK_QUEUE_KEY_WILDCARDS:
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Action::{action}]",
            "CDK's SQS grants on a queue encrypted with the customer managed key add its encrypt/decrypt action "
            "set (key.grantEncryptDecrypt); the statement's resource is that one key's ARN.",
        )
