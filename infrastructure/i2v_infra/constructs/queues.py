"""The pipeline's SQS queues, built one way: SQS-managed encryption and SSL only, always with a dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def dead_letter_queue(scope: Construct, construct_id: str = "DeadLetterQueue") -> sqs.Queue:
    """A dead-letter queue: 14 days to inspect and redrive what landed in it (an alarm fires on its first message)."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
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
) -> sqs.Queue:
    """A queue a function consumes: a message received `max_receive_count` times moves to `dead_letters`."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receive_count),
    )
