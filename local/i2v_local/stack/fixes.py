"""The changes the local stack makes to moto once its resources exist, in one list with the reason for each.

Two more are entered at their own moment by LocalStack: botocore_models before the stack's first boto3 Session, and
s3events only when its setting asks for it. The local stack README lists every one with its canary test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from i2v_local.stack.callbacks import tokens_valid_once_sent
from i2v_local.stack.compat import aws_error_rules
from i2v_local.stack.dynamodb_isolation import writes_isolated
from i2v_local.stack.lambdas import HandlerRouter
from i2v_local.stack.moto_tracking import dynamodb_untracked
from i2v_local.stack.s3limits import metadata_limited
from i2v_local.stack.sqs_retention import retention_read_once


@contextmanager
def moto_as_aws(router: HandlerRouter) -> Iterator[None]:
    with ExitStack() as fixes:
        fixes.enter_context(router.patched_moto())  # Lambda functions run in-process, not in Docker
        fixes.enter_context(tokens_valid_once_sent())  # a task token is valid as soon as it is sent, not later
        fixes.enter_context(writes_isolated())  # transactions neither undo others' writes nor copy whole tables
        fixes.enter_context(dynamodb_untracked())  # moto's DynamoDB models are freed, not kept until reset
        fixes.enter_context(retention_read_once())  # a receive no longer scans the queue per message
        fixes.enter_context(metadata_limited())  # S3 refuses user metadata over 2 KB
        fixes.enter_context(aws_error_rules())  # States.ALL does not catch States.Runtime
        yield
