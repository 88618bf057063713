"""Every AWS call the handlers really make is on their IAM allow-list, and every allow-list line is used or
explained; the same run writes no secret down.

    actions the code performs  <=  EXPECTED (tests/support/iam_allow_list.py)

"performed": the real handlers run through the local stack (moto + the GMI simulator) while every boto3 call
(and every presigned URL) they make is recorded (support.call_recorder.CallRecorder) and mapped to its IAM
action and resource. Each call must be covered by EXPECTED; each EXPECTED line must be seen in the run or say
why it cannot be (NOT_EXERCISED). That the template grants exactly EXPECTED is the other half of the check:
tests/security/test_iam_policy_matches_allow_list.py.

The run takes the normal path (the Watch state and the watch function) for its jobs, and the fallback loop
(Wait, the Poll function) once: SQS refuses the Watch state's first message of one job, as a throttled or
unavailable SQS would.

The same run checks that no secret (the GMI API key) and no presigned-URL signature reaches the logs, the
job records, the events, the execution histories or the handlers' errors.
"""

from __future__ import annotations

import fnmatch
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from support.call_recorder import CallRecorder
from support.iam_allow_list import HANDLERS, NOT_EXERCISED, Grant, platform_keys
from support.leaks import assert_no_secrets

pytestmark = pytest.mark.xdist_group(__name__)

FUNCTIONS_DIR = str(Path(__file__).resolve().parents[2] / "functions" / "i2v")
API_KEY = "gmi-key-for-leak-tests-3b8f0d2a71c4"


def _table(grants: set[Grant]) -> str:
    return "\n".join(f"    {action} on {resource}" for action, resource in sorted(grants)) or "    (none)"


@pytest.fixture(scope="module")
def local_gmi() -> Iterator[GmiSimulator]:
    """Overrides the shared simulator: this one only accepts a distinctive API key the leak checks look for."""
    with GmiSimulator(timing=Timing.zero(), api_key=API_KEY) as simulator:
        yield simulator


@dataclass
class RecordedRun:
    performed: dict[str, set[Grant]]
    written: dict[str, list[Any]]  # what the run wrote down, by kind (logs, records, events, ...)
    statuses: dict[str, str]
    refused_watch_messages: list[str]  # job ids whose Watch state's message SQS refused (the fallback loop ran)
    fallback_polls: int  # invocations of the Poll function


class RefuseFirstWatchMessage:
    """Makes SQS refuse the Watch state's first message of one job (the state machine's own SendMessage: the
    watch function's messages carry `due_at`), so the Watch's Catch sends that job through Wait and Poll."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.job_id: str | None = None
        self.refused: list[str] = []

    def __call__(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if (service, operation) != ("sqs", "SendMessage") or params.get("QueueUrl") != self.queue_url:
            return
        body = json.loads(params["MessageBody"])
        if "due_at" in body or body["state"]["job_id"] != self.job_id or self.refused:
            return
        self.refused.append(self.job_id)
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "refused by the test"}}, operation)


@pytest.fixture(scope="module")
def recorded_run(cdk_template: dict[str, Any], local_gmi: GmiSimulator) -> Iterator[RecordedRun]:
    """One local-stack run through success, GMI failure and budget deferral, recording calls and outputs."""
    from i2v.adapters import storage
    from i2v_local.stack import LocalSettings

    local_gmi.reset()
    settings = LocalSettings.for_simulator(
        local_gmi, api_key=API_KEY, environment={"DAILY_SUBMISSION_CAP": "2", "BUDGET_EXCEEDED_ACTION": "defer"}
    )
    stack = LocalStack(cdk_template, settings).start()
    from i2v.handlers.observability import logger  # after start(): it reads the stack's environment

    log_buffer = io.StringIO()
    previous_stream = logger.registered_handler.setStream(log_buffer)  # type: ignore[attr-defined]
    original_call: Callable[..., Any] = BaseClient._make_api_call
    original_presign = storage.SourceImages.presign_get
    try:
        outputs = stack.outputs
        names = {
            outputs["InputBucketName"]: "input-bucket",
            outputs["OutputBucketName"]: "output-bucket",
            outputs["JobsTableName"]: "table",
            outputs["EventBusName"]: "event-bus",
            outputs["StateMachineArn"]: "state-machine",
            outputs["SubmitQueueUrl"]: "submit-queue",
            outputs["GmiApiKeySecretArn"]: "api-key-secret",
        }
        env = stack.function_environment()
        names.setdefault(env["GMI_API_KEY_SECRET_ID"], "api-key-secret")
        watch_queue_url = env["WATCH_QUEUE_URL"]
        names[watch_queue_url] = "watch-queue"
        refuse = RefuseFirstWatchMessage(watch_queue_url)
        # A task token is issued by (and answered on) the one state machine: IAM authorizes SendTask* on it.
        recorder = CallRecorder(stack, names, HANDLERS, FUNCTIONS_DIR, task_token_issuer="state-machine")
        stack.router.before_invoke.append(recorder.before)
        stack.router.after_invoke.append(recorder.after)

        def recording_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            recorder.record(service, operation, params)
            refuse(service, operation, params)
            return original_call(client, operation, params)

        def recording_presign(self: Any, bucket: str, key: str, version_id: str | None, ttl_seconds: int) -> str:
            recorder.record("s3", "GetObject", {"Bucket": bucket, "Key": key, "VersionId": version_id})
            return original_presign(self, bucket, key, version_id, ttl_seconds)

        BaseClient._make_api_call = recording_call  # type: ignore[method-assign]
        storage.SourceImages.presign_get = recording_presign  # type: ignore[method-assign]

        pipeline = PipelineDriver(stack)
        tap = stack.tap_events()
        jobs = {
            # Two status GETs say "dispatched": the watch function records progress and sends the job on,
            # then finds it already recorded. On a model that takes an end frame, so the end-frame reads are
            # exercised too.
            "succeeded": pipeline.upload(
                "incoming/ok.png",
                prompt="a cat [sim:dispatched gets=2]",
                model="kling-v3-image-to-video",
                end_frame=pipeline.put_end_frame(),
            ),
            # Looked at by the Poll function (its Watch message is refused): it records the progress too.
            "failed": pipeline.upload(
                "incoming/broken.png", prompt="x [sim:dispatched gets=2] [sim:fail message=exploded]"
            ),
        }
        refuse.job_id = jobs["failed"]
        stack.run_until_idle(timeout=60)
        jobs["deferred"] = pipeline.upload("incoming/over-budget.png")  # the daily cap of 2 is used up
        stack.run_until_idle(timeout=60)
        # A one-line manifest (issue 27): its ranged read, the line's image under the manifest prefix, the line
        # messages' SendMessageBatch and the summary's writes (its job waits for tomorrow's budget, too).
        stack.client("s3").put_object(Bucket=pipeline.input_bucket, Key="manifests/one.png", Body=png_bytes())
        line = json.dumps({"image": "manifests/one.png", "prompt": "waves"}).encode() + b"\n"
        stack.client("s3").put_object(Bucket=pipeline.input_bucket, Key="manifests/batch.jsonl", Body=line)
        stack.run_until_idle(timeout=60)
        # The deferred job comes back (as SubmitQueue sends it 15 minutes later) and is deferred again.
        stack.client("sqs").send_message(
            QueueUrl=outputs["SubmitQueueUrl"], MessageBody=json.dumps({"kind": "resume", "job_id": jobs["deferred"]})
        )
        stack.run_until_idle(timeout=60)
        # The failure of an already failed job is recorded twice (failure path and execution-failed rule).
        stack.router.invoke(
            stack.function("Fail"), {"job_id": jobs["failed"], "error": {"Error": "States.TaskFailed", "Cause": "x"}}
        )

        # The sweeper's run: nothing here is forgotten, so it only reads (tests/scenarios/test_sweeper.py acts).
        stack.router.invoke(stack.function("Sweeper"), {})

        db = stack.client("dynamodb")
        items = db.scan(TableName=outputs["JobsTableName"])["Items"]
        histories = [pipeline.history(e["executionArn"]) for e in pipeline.executions()]
        written = {
            "logs": [log_buffer.getvalue()],
            "records": items,
            "events": tap.drain(),
            "handler results and errors": [(name, result.payload) for name, _, result in stack.router.invocations],
            "execution histories": histories,
        }
        statuses = {label: pipeline.job(job_id).status for label, job_id in jobs.items()}
        fallback_polls = len(stack.router.calls("Poll"))
        yield RecordedRun(dict(recorder.performed), written, statuses, refuse.refused, fallback_polls)
    finally:
        BaseClient._make_api_call = original_call  # type: ignore[method-assign]
        storage.SourceImages.presign_get = original_presign  # type: ignore[method-assign]
        logger.registered_handler.setStream(previous_stream)  # type: ignore[attr-defined]
        stack.stop()


def test_the_recorded_run_went_through_every_path(recorded_run: RecordedRun) -> None:
    assert recorded_run.statuses == {"succeeded": "succeeded", "failed": "failed", "deferred": "deferred"}
    assert set(recorded_run.performed) == set(HANDLERS), "every function must have run"
    # The fallback loop ran once, for the job whose Watch message SQS refused; every other look was watched.
    assert len(recorded_run.refused_watch_messages) == 1
    assert recorded_run.fallback_polls >= 1


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_every_call_the_code_makes_is_on_the_allow_list(
    function: str, recorded_run: RecordedRun, expected: dict[str, dict[Grant, str]]
) -> None:
    uncovered = {
        (action, resource)
        for action, resource in recorded_run.performed.get(function, set())
        if not any(a == action and fnmatch.fnmatchcase(resource, r) for a, r in expected[function])
    }
    assert not uncovered, (
        f"{function} performed calls its allow-list (and so its policy) does not cover:\n{_table(uncovered)}"
    )


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_every_allow_list_line_is_used_or_explained(
    function: str, recorded_run: RecordedRun, expected: dict[str, dict[Grant, str]]
) -> None:
    performed = recorded_run.performed.get(function, set())
    unused = {
        (action, resource)
        for action, resource in expected[function]
        if (function, action) not in NOT_EXERCISED
        and not any(a == action and fnmatch.fnmatchcase(r, resource) for a, r in performed)
    }
    assert not unused, (
        f"{function}: allow-list lines the run never used (remove them or explain in NOT_EXERCISED):\n{_table(unused)}"
    )
    stale = {
        action
        for (fn, action) in NOT_EXERCISED
        if fn == function and any(a == action for a, _ in performed) and (fn, action) not in platform_keys()
    }
    assert not stale, f"{function}: NOT_EXERCISED says these are never seen, but the run used them: {sorted(stale)}"


@pytest.mark.parametrize("kind", ["logs", "records", "events", "handler results and errors", "execution histories"])
def test_no_secret_is_written_down(kind: str, recorded_run: RecordedRun) -> None:
    written = recorded_run.written[kind]
    assert any(written), f"the run wrote no {kind}: nothing was checked"  # [""] (empty logs) is nothing
    assert_no_secrets(written, secrets=[API_KEY], what=kind)
