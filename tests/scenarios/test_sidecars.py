"""Issue 27, item 3: settings sidecars through the local stack (moto S3 + SQS, the real submit handler, the GMI
simulator). A 3,000-character prompt, which S3's 2 KB of user metadata could never carry, reaches a model that
allows it; bad sidecars reject their job before any POST; the sidecar's own upload starts no job."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.submit_helpers import FAILED, dead_letters, posts, send

pytestmark = pytest.mark.xdist_group(__name__)

PROMPT = ("a slow dolly across the harbour at dusk, gulls lifting off the pier, " * 50)[:3000]


def _put_sidecar(pipeline: PipelineDriver, key: str, body: Any) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    pipeline.s3.put_object(Bucket=pipeline.input_bucket, Key=key, Body=data, ContentType="application/json")


def test_a_3000_character_prompt_goes_through_a_sidecar_to_a_model_that_allows_it(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    assert len(PROMPT) == 3000
    _put_sidecar(pipeline, "incoming/harbour.json", {"model": "pixverse-v6-i2v", "prompt": PROMPT, "duration": 8})
    job_id = pipeline.upload("incoming/harbour.png")
    # Should a sidecar's notification ever arrive (S3's suffix filters keep it out), it is ignored cleanly.
    send(local_stack, json.dumps(_notification(pipeline.input_bucket, "incoming/harbour.json")))

    local_stack.run_until_idle(timeout=60)

    job = pipeline.job(job_id)
    assert job.status == "succeeded", (job.status, job.failure)
    assert (job.model, job.settings["prompt"], job.settings["duration"]) == ("pixverse-v6-i2v", PROMPT, 8)
    assert job.sidecar is not None
    assert job.sidecar.key == "incoming/harbour.json"
    assert job.sidecar.version_id
    assert len(posts(local_gmi)) == 1
    gmi_job = local_gmi.jobs[str(job.request_id)]
    assert (gmi_job.model, gmi_job.payload["prompt"]) == ("pixverse-v6-i2v", PROMPT)
    assert dead_letters(local_stack) == []
    jobs = local_stack.client("dynamodb").scan(TableName=local_stack.outputs["JobsTableName"])["Items"]
    assert [item["job_id"]["S"] for item in jobs if item["pk"]["S"].startswith("JOB#")] == [job_id]


def test_bad_sidecars_reject_their_job_with_the_reason_before_any_post(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    tap = leak_guard.watch(local_stack)
    _put_sidecar(pipeline, "incoming/bad/broken.json", b'{"prompt": "the cat blinks", }')
    _put_sidecar(pipeline, "incoming/bad/typo.json", {"prompt": "the cat blinks", "qualty": "720p"})
    jobs = {
        "invalid JSON": pipeline.upload("incoming/bad/broken.png"),
        "unknown setting": pipeline.upload("incoming/bad/typo.png"),
        "named but missing": pipeline.upload("incoming/bad/lost.png", settings="never-uploaded.json"),
    }

    local_stack.run_until_idle(timeout=60)

    events = {event["detail"]["job_id"]: event["detail"] for event in tap.of_type(FAILED)}
    reasons = {}
    for name, job_id in jobs.items():
        job = pipeline.job(job_id)
        assert (job.status, job.request_id) == ("rejected", None), name
        assert job.failure is not None
        assert events[job_id]["failure"] == {"category": "invalid_settings", "message": job.failure.message}
        reasons[name] = job.failure.message
    assert "settings sidecar 'incoming/bad/broken.json' is not valid JSON" in reasons["invalid JSON"]
    assert "'qualty'" in reasons["unknown setting"]
    assert "settings sidecar 'incoming/bad/typo.json'" in reasons["unknown setting"]
    assert "'incoming/bad/never-uploaded.json' does not exist" in reasons["named but missing"]
    assert posts(local_gmi) == []


def _notification(bucket: str, key: str) -> dict[str, Any]:
    s3 = {"bucket": {"name": bucket}, "object": {"key": key, "size": 10, "eTag": "e", "sequencer": "0A"}}
    return {"Records": [{"eventName": "ObjectCreated:Put", "s3": s3}]}
