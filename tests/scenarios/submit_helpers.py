"""Helpers of the submit-side scenarios: the submit queue, S3 notification bodies, what the functions logged."""

from __future__ import annotations

import importlib
import io
import json
import random
import struct
from types import ModuleType
from typing import Any

from PIL import Image

from i2v_events.v1 import DetailType
from i2v_local.simulator import GmiSimulator, LogEntry
from i2v_local.stack import LocalStack

SUBMITTED = DetailType.SUBMITTED
SUCCEEDED = DetailType.SUCCEEDED
FAILED = DetailType.FAILED


def submit_module() -> ModuleType:
    """i2v.handlers.submit of the running stack (imported only once a stack has set the environment)."""
    return importlib.import_module("i2v.handlers.submit")


def submit_queue(stack: LocalStack) -> str:
    return stack.outputs["SubmitQueueUrl"]


def take_messages(stack: LocalStack) -> list[str]:
    """Receive and delete everything visible on the submit queue (the test delivers it itself)."""
    sqs, bodies = stack.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=submit_queue(stack), MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=submit_queue(stack), ReceiptHandle=message["ReceiptHandle"])


def take_notifications(stack: LocalStack) -> list[str]:
    """The S3 notifications waiting on the submit queue (S3's own s3:TestEvent is dropped)."""
    return [body for body in take_messages(stack) if "Records" in json.loads(body)]


def send(stack: LocalStack, *bodies: str) -> None:
    sqs = stack.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=submit_queue(stack), MessageBody=body)


def dead_letters(stack: LocalStack) -> list[str]:
    messages = (
        stack.client("sqs")
        .receive_message(QueueUrl=stack.outputs["DeadLetterQueueUrl"], MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )
    return [m["Body"] for m in messages]


def queue_counts(stack: LocalStack) -> dict[str, int]:
    attributes = stack.client("sqs").get_queue_attributes(QueueUrl=submit_queue(stack), AttributeNames=["All"])[
        "Attributes"
    ]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
    }


def notification_key(body: str) -> str:
    """The raw (still encoded) key of the single record of an S3 notification body."""
    (record,) = json.loads(body)["Records"]
    return str(record["s3"]["object"]["key"])


def with_object(body: str, **changes: Any) -> str:
    """The same notification with fields of `s3.object` (and `bucket=...`) replaced: a forged delivery."""
    message = json.loads(body)
    for record in message["Records"]:
        bucket = changes.pop("bucket", None)
        if bucket is not None:
            record["s3"]["bucket"]["name"] = bucket
            record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        record["s3"]["object"].update(changes)
    return json.dumps(message)


def handled(log: list[dict[str, Any]], job_id: str | None = None) -> list[str]:
    """Outcomes the submit handler logged ("handled" lines), optionally of one job."""
    return [
        line["outcome"]
        for line in log
        if line.get("message") == "handled" and (job_id is None or line.get("correlation_id") == job_id)
    ]


def ignored(log: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(line["reason"], line.get("key")) for line in log if line.get("message") == "ignored"]


def posts(sim: GmiSimulator) -> list[LogEntry]:
    """Every POST GMI received (answered or not), unlike `post_count` which counts created jobs."""
    return [entry for entry in sim.requests_log if entry.method == "POST"]


def jpeg_bytes(width: int = 64, height: int = 48, shade: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 140, 90)).save(out, "JPEG")
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def heic_bytes() -> bytes:
    """The first box of a HEIC file (ftyp, brand heic): enough for a content sniffer, not a real image."""
    brands = b"heic" + struct.pack(">I", 0) + b"mif1heic"
    box = struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands
    return box + b"\x00" * 64


def noise_png(width: int = 96, height: int = 96) -> bytes:
    """A PNG that does not compress: a few tens of kilobytes."""
    image = Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def budget_items(stack: LocalStack) -> dict[str, int]:
    """The daily budget counters in the jobs table, by day."""
    items = stack.client("dynamodb").scan(TableName=stack.outputs["JobsTableName"])["Items"]
    return {
        item["pk"]["S"].removeprefix("BUDGET#"): int(item["submissions"]["N"])
        for item in items
        if item["pk"]["S"].startswith("BUDGET#")
    }
