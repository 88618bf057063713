"""The pipeline's SQS queues, built one way: SQS-managed encryption (or the customer's key) and SSL only, always
with a dead-letter queue."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def queue_encryption(key: kms.IKey | None) -> dict[str, Any]:
    """SSE-SQS, or SSE-KMS under the customer managed key (config kms_key_arn)."""
    if key is None:
        return {"encryption": sqs.QueueEncryption.SQS_MANAGED}
    return {"encryption": sqs.QueueEncryption.KMS, "encryption_master_key": key}


def dead_letter_queue(
    scope: Construct, construct_id: str = "DeadLetterQueue", *, key: kms.IKey | None = None
) -> sqs.Queue:
    """A dead-letter queue: 14 days to inspect and redrive what landed in it (an alarm fires on its first message)."""
    return sqs.Queue(
        scope,
        construct_id,
        **queue_encryption(key),
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )


def work_queue(
    scope: Construct,
    construct_id: str,
    *,
    visibility_timeout: Duration,
    retention_period: Duration,
    dead_letters: sqs.IQueue,
    max_receive_count: int,
    key: kms.IKey | None = None,
) -> sqs.Queue:
    """A queue a function consumes: a message received `max_receive_count` times moves to `dead_letters`."""
    return sqs.Queue(
        scope,
        construct_id,
        **queue_encryption(key),
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receive_count),
    )
