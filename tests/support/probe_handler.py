"""A Lambda handler for the local stack's SQS pump tests (tests/local/test_aws_faults.py): each record makes one
AWS call, its side effect (the record's message id sent to the queue named in PROBE_EFFECTS_URL), so a test can
see which records a batch handled before it was killed. A record whose body is "slow" first sleeps past a
1 s function timeout."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3

remaining: list[int] = []  # get_remaining_time_in_millis() at the start of each invocation


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    remaining.append(context.get_remaining_time_in_millis())
    sqs = boto3.client("sqs", region_name="us-east-1")
    for record in event["Records"]:
        if record["body"] == "slow":
            time.sleep(1.2)
        sqs.send_message(QueueUrl=os.environ["PROBE_EFFECTS_URL"], MessageBody=record["messageId"])
    return {"batchItemFailures": []}
