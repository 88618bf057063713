"""Issue 27, item 4: a 50-line manifest through the local stack (moto S3 notifications and SQS, the real submit
handler, the GMI simulator): one job per good line, the bad lines rejected with their line numbers, every message
of the fan-out delivered twice, and nothing paid twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v.adapters.manifests import ManifestSummaries
from i2v.domain.manifest import ManifestRef
from i2v_events import ManifestCompletedDetail
from i2v_events.v1 import DetailType
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from scenarios.submit_helpers import dead_letters, posts, submit_queue
from support.watch_queue import submit_pump

pytestmark = pytest.mark.xdist_group(__name__)

LINES = 50
BAD = {7: "not valid JSON", 19: "no 'image'", 23: "must be a key under", 31: "is not text, a number", 40: "no image"}


def _manifest(pipeline: PipelineDriver) -> bytes:
    lines = []
    for number in range(1, LINES + 1):
        key = f"manifests/shoot/img{number:03}.png"
        if number != 40:  # line 40 names an image that was never uploaded
            pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key=key, Body=png_bytes(shade=number))
        lines.append(json.dumps({"image": key, "prompt": f"scene {number}", "duration": "5"}))
    lines[6] = '{"image": "manifests/shoot/img007.png", "prompt": '
    lines[18] = '{"prompt": "who am I"}'
    lines[22] = '{"image": "../outside.png"}'
    lines[30] = '{"image": "manifests/shoot/img031.png", "seed": {"n": 1}}'
    return ("\n".join(lines) + "\n").encode()


def _drain_twice(stack: LocalStack) -> int:
    """Hand every message of the submit queue to the submit function twice (SQS's at-least-once at its worst: the
    manifest's notification, each chunk, each line), until the queue is empty; returns how many there were."""
    pump, sqs, delivered = submit_pump(stack), stack.client("sqs"), 0
    while messages := sqs.receive_message(QueueUrl=submit_queue(stack), MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            for _ in range(2):
                answer = stack.router.invoke(pump.source.function_name, pump.event_for([message])).payload
                assert answer == {"batchItemFailures": []}
            sqs.delete_message(QueueUrl=submit_queue(stack), ReceiptHandle=message["ReceiptHandle"])
        delivered += len(messages)
    return delivered


def test_a_50_line_manifest_with_bad_lines_and_redelivered_messages_pays_each_good_line_once_and_completes(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = leak_guard.watch(local_stack)
    body = _manifest(pipeline)
    version = pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key="manifests/shoot.jsonl", Body=body)
    ref = ManifestRef(bucket=pipeline.input_bucket, key="manifests/shoot.jsonl", version_id=version["VersionId"])

    assert _drain_twice(local_stack) >= 1 + 46  # its notification (the first chunk), then the good lines
    local_stack.run_until_idle(timeout=120)

    summary = ManifestSummaries(local_stack.outputs["JobsTableName"]).get(ref.manifest_id)
    assert summary is not None
    assert (summary.split_done, summary.next_line, summary.lines) == (True, LINES + 1, LINES - 4)
    assert sorted(map(int, summary.bad_lines)) == sorted(BAD)
    for number, words in BAD.items():
        assert words in summary.bad_lines[str(number)], (number, summary.bad_lines)
    assert summary.bad_total == len(BAD)
    # Every line has ended (44 jobs succeeded, the missing image's line): the manifest is complete, once.
    assert (summary.ended, summary.completed_at is not None) == (LINES - 4, True)
    good = [n for n in range(1, LINES + 1) if n not in BAD]
    assert len(posts(local_gmi)) == len(good) == 45  # each good line paid once, every message came twice
    prompts = sorted(job.payload["prompt"] for job in local_gmi.jobs.values())
    assert prompts == sorted(f"scene {n}" for n in good)
    for job in local_gmi.jobs.values():
        assert job.model == "pixverse-v5.5-i2v"
    assert dead_letters(local_stack) == []

    # The same manifest uploaded again: a new version, every line lands on its image's existing job.
    pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key="manifests/shoot.jsonl", Body=body)
    second = pipeline.s3.head_object(Bucket=pipeline.input_bucket, Key="manifests/shoot.jsonl")["VersionId"]
    _drain_twice(local_stack)
    local_stack.run_until_idle(timeout=120)
    assert len(posts(local_gmi)) == 45
    again = ManifestRef(bucket=pipeline.input_bucket, key="manifests/shoot.jsonl", version_id=second)
    resplit = ManifestSummaries(local_stack.outputs["JobsTableName"]).get(again.manifest_id)
    assert resplit is not None
    assert (resplit.lines, resplit.ended, resplit.completed_at is not None) == (LINES - 4, LINES - 4, True)
    # One Manifest Completed event per manifest version, though every message was delivered twice.
    completed = [event["detail"] for event in tap.of_type(DetailType.MANIFEST_COMPLETED)]
    assert sorted((d["manifest"]["version_id"], d["lines"], d["ended"], d["bad_lines"]) for d in completed) == sorted(
        [(ref.version_id, 46, 46, 5), (second, 46, 46, 5)]
    )
    for detail in completed:
        ManifestCompletedDetail.model_validate(detail)
