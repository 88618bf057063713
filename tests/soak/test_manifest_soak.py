"""Issue 27's manifest soak: 1,000 lines through the local stack with 5 bad lines and 50 redelivered messages:
995 jobs, none paid twice, the 5 rejected with their line numbers, one Manifest Completed event, and the
process's peak RSS within the soaks' bound (i2v_local.soak_report.MemoryWatch) (the run once reached 21 GB and was OOM-killed).

Too slow for `make test` (about 1,000 jobs through the real state machine): `make soak` runs it with
I2V_MANIFEST_SOAK_LINES=1000; without that variable it is skipped (`make test` runs the 50-line version,
tests/scenarios/test_manifests.py).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from i2v.adapters.manifests import ManifestSummaries
from i2v.domain.manifest import ManifestRef
from i2v_events.v1 import DetailType
from i2v_local.simulator import GmiSimulator
from i2v_local.soak_report import MemoryWatch
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from support.watch_queue import submit_pump

LINES = int(os.environ.get("I2V_MANIFEST_SOAK_LINES", "0"))
REDELIVERED = min(50, LINES // 3)  # 50 at 1,000 lines

pytestmark = [
    pytest.mark.xdist_group(__name__),
    pytest.mark.slow,
    pytest.mark.skipif(LINES < 60, reason="set I2V_MANIFEST_SOAK_LINES (make soak: 1000)"),
]


def _bad_lines(lines: int) -> dict[int, str]:
    """Five bad lines spread over the manifest: line number -> the words of its rejection."""
    step = lines // 6
    return {
        step: "not valid JSON",
        2 * step: "no 'image'",
        3 * step: "must be a key under",
        4 * step: "is not text, a number",
        5 * step: "no image",
    }


def _manifest(pipeline: PipelineDriver, bad: dict[int, str]) -> bytes:
    image = png_bytes()
    out = []
    for number in range(1, LINES + 1):
        key = f"manifests/soak/{number:05}.png"
        line: Any = {"image": key, "prompt": f"soak scene {number}", "duration": "5"}
        words = bad.get(number, "")
        if words == "not valid JSON":
            line = '{"image": "' + key + '", '
        elif words == "no 'image'":
            line = {"prompt": "who am I"}
        elif words == "must be a key under":
            line = {"image": "elsewhere/cat.png"}
        elif words == "is not text, a number":
            line = {"image": key, "seed": [1]}
        if words != "no image":
            pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key=key, Body=image)
        out.append(line if isinstance(line, str) else json.dumps(line))
    return ("\n".join(out) + "\n").encode()


def test_a_1000_line_manifest_with_bad_lines_and_redelivered_messages(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    memory = MemoryWatch()
    tap = leak_guard.watch(local_stack)
    bad = _bad_lines(LINES)
    put = pipeline.s3.put_object(
        Bucket=pipeline.input_bucket, Key="manifests/soak.jsonl", Body=_manifest(pipeline, bad)
    )
    ref = ManifestRef(bucket=pipeline.input_bucket, key="manifests/soak.jsonl", version_id=put["VersionId"])
    pump, sqs, queue = submit_pump(local_stack), local_stack.client("sqs"), local_stack.outputs["SubmitQueueUrl"]
    redelivered, came_back = 0, 0
    # The submit queue, drained by hand ten at a time; 50 line messages are handed over a second time. A record
    # the function hands back (e.g. too little time left for its POST on a loaded machine) comes back as SQS
    # would after its visibility timeout, at most maxReceiveCount (5) times.
    while messages := sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    ).get("Messages"):
        answer = local_stack.router.invoke(pump.source.function_name, pump.event_for(messages)).payload
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        lines = [m for m in done if json.loads(m["Body"]).get("kind") == "manifest_line"]
        if lines and redelivered < REDELIVERED:
            again = lines[: REDELIVERED - redelivered]
            local_stack.router.invoke(pump.source.function_name, pump.event_for(again))
            redelivered += len(again)
        for message in messages:
            if message["MessageId"] in failed:
                assert int(message["Attributes"]["ApproximateReceiveCount"]) < 5, "a line would be dead-lettered"
                sqs.change_message_visibility(
                    QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                came_back += 1
            else:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert redelivered == REDELIVERED
    print(f"{came_back} records handed back by the function and delivered again")
    local_stack.run_until_idle(timeout=max(600, LINES))

    jobs = LINES - len(bad)
    assert local_gmi.post_count == len([e for e in local_gmi.requests_log if e.method == "POST"]) == jobs
    summary = ManifestSummaries(local_stack.outputs["JobsTableName"]).get(ref.manifest_id)
    assert summary is not None
    assert sorted(map(int, summary.bad_lines)) == sorted(bad)
    for number, words in bad.items():
        assert words in summary.bad_lines[str(number)]
    assert (summary.bad_total, summary.ended, summary.completed_at is not None) == (5, LINES - 4, True)
    completed = tap.of_type(DetailType.MANIFEST_COMPLETED)
    assert [event["detail"]["manifest_id"] for event in completed] == [ref.manifest_id]
    bounded = memory.invariant(jobs)
    with leak_guard.capfd.disabled():  # on the terminal, in `make soak`'s output too
        print(f"\nmanifest soak, {LINES} lines: {bounded.detail}")
    assert bounded.ok, bounded.detail
