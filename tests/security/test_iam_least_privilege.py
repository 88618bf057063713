"""Each Lambda's IAM policy allows only what its code uses, on only the resources it touches.

The chain checked here, per function (submit, poll, complete, fail):

    actions the code performs  <=  EXPECTED  <=  granted by the template  ==  EXPECTED + ACCEPTED_EXTRAS

* "granted": every Allow statement of every policy attached to the function's role in the synthesized
  template (AWS::IAM::Policy, inline Policies, managed policies), as (action, resource) pairs with the
  resources rendered to stable names ("table/index/by-status", "input-bucket/incoming/*", "*").
* EXPECTED: the allow-list below, one line per grant with the code (or AWS requirement) that needs it.
* "performed": the real handlers run through the local stack (moto + the GMI simulator) while every boto3
  call (and every presigned URL) they make is recorded and mapped to its IAM action and resource. Each call
  must be covered by EXPECTED; each EXPECTED line must be seen in the run or say why it cannot be
  (NOT_EXERCISED).
* ACCEPTED_EXTRAS: grants the code does not call but that we accept, each with its reason (CDK's own event
  source grant on the function's own queue). Anything else granted beyond EXPECTED fails the test.

The same run checks that no secret (the GMI API key) and no presigned-URL signature reaches the logs, the
job records, the events, the execution histories or the handlers' errors.
"""

from __future__ import annotations

import fnmatch
import io
import json
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.client import BaseClient

from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import FunctionSpec, Invocation, LocalStack
from i2v_local.stack.driver import PipelineDriver
from support.leaks import assert_no_secrets

pytestmark = pytest.mark.xdist_group("local")

Grant = tuple[str, str]  # (IAM action, resource name)

HANDLERS = {
    "submit": "i2v.handlers.submit.handler",
    "poll": "i2v.handlers.poll.handler",
    "complete": "i2v.handlers.complete.handler",
    "fail": "i2v.handlers.fail.handler",
}

# Resource names: logical ids (hash removed) of the template's resources -> the names used below.
RESOURCE_NAMES = {
    ("AWS::DynamoDB::Table", "JobsTable"): "table",
    ("AWS::S3::Bucket", "StorageInput"): "input-bucket",
    ("AWS::S3::Bucket", "StorageOutput"): "output-bucket",
    ("AWS::Events::EventBus", "EventBus"): "event-bus",
    ("AWS::SecretsManager::Secret", "GmiApiKey"): "api-key-secret",
    ("AWS::StepFunctions::StateMachine", "StateMachine"): "state-machine",
    ("AWS::SQS::Queue", "SubmitQueue"): "submit-queue",
    ("AWS::SQS::Queue", "FailureDeadLetterQueue"): "failure-dlq",
}
OWN_LOG_GROUP = "own-log-group"  # the log group in the function's LoggingConfig

PLATFORM: dict[Grant, str] = {
    ("logs:CreateLogStream", OWN_LOG_GROUP): "Lambda writes the function's logs (its own group only)",
    ("logs:PutLogEvents", OWN_LOG_GROUP): "Lambda writes the function's logs (its own group only)",
    ("xray:PutTraceSegments", "*"): "active tracing; X-Ray has no resource-level permissions (AWS requires '*')",
    ("xray:PutTelemetryRecords", "*"): "active tracing; X-Ray has no resource-level permissions (AWS requires '*')",
}


def expected_grants(input_prefix: str, output_prefix: str) -> dict[str, dict[Grant, str]]:
    """The allow-list: (action, resource) -> the code or AWS requirement that needs it."""
    uploads, videos = f"input-bucket/{input_prefix}*", f"output-bucket/{output_prefix}*"
    jobs = {
        ("dynamodb:GetItem", "table"): "JobRepository.get (and re-reading a job after a refused transition)",
        ("dynamodb:UpdateItem", "table"): "JobRepository.transition/annotate (conditional updates)",
    }
    secret = {("secretsmanager:GetSecretValue", "api-key-secret"): "ApiKeyReader (Powertools get_secret)"}
    publish = {("events:PutEvents", "event-bus"): "EventPublisher.publish"}
    return {
        "submit": {
            **PLATFORM,
            **jobs,
            **secret,
            **publish,
            ("dynamodb:PutItem", "table"): "JobRepository.claim: the Put of TransactWriteItems",
            ("dynamodb:Query", "table/index/by-status"): "recent_generation_seconds (by_status) for the poll policy",
            ("s3:GetObjectVersion", uploads): "SourceImages.head/first_bytes/presign_get with a version id",
            ("s3:GetObject", uploads): "SourceImages.is_deleted (HEAD of the key: a delete marker means the user "
            "deleted the image); the versioned calls for an object without a version id",
            ("s3:ListBucket", "input-bucket"): "makes S3 answer 404, not 403, for a deleted upload (source_missing)",
            ("states:StartExecution", "state-machine"): "WorkflowStarter.start",
            ("sqs:SendMessage", "submit-queue"): "SubmitQueue: budget deferrals go back on the queue",
            ("sqs:ReceiveMessage", "submit-queue"): "the SQS event source mapping (runs as the function's role)",
            ("sqs:DeleteMessage", "submit-queue"): "the SQS event source mapping (runs as the function's role)",
            ("sqs:GetQueueAttributes", "submit-queue"): "the SQS event source mapping (runs as the function's role)",
        },
        "poll": {**PLATFORM, **jobs, **secret},
        "complete": {
            **PLATFORM,
            **jobs,
            **secret,
            **publish,
            ("s3:PutObject", videos): "VideoStore.upload (PutObject or Create/UploadPart/CompleteMultipartUpload)",
            ("s3:AbortMultipartUpload", videos): "VideoStore.upload: s3transfer aborts a failed multipart upload",
            ("s3:GetObject", videos): "VideoStore.size_of (HEAD of an already stored video)",
            ("s3:ListBucket", "output-bucket"): "makes HEAD of a missing video 404, not 403",
        },
        "fail": {
            **PLATFORM,
            **jobs,
            **publish,
            ("sqs:SendMessage", "failure-dlq"): "the function's DeadLetterConfig (async invocations by the rule)",
        },
    }


#: Lines of EXPECTED the recorded run cannot show, and why.
NOT_EXERCISED: dict[tuple[str, str], str] = {
    **{(fn, action): "called by the Lambda service, not by our code" for fn in HANDLERS for action, _ in PLATFORM},
    **{
        ("submit", "sqs:ReceiveMessage"): "the event source mapping polls the queue, not our code",
        ("submit", "sqs:DeleteMessage"): "the event source mapping deletes handled messages, not our code",
        ("submit", "sqs:GetQueueAttributes"): "the event source mapping reads the queue, not our code",
        ("poll", "dynamodb:GetItem"): "only when GMI reports progress the record already moved past (a refused "
        "transition re-reads the job)",
        ("submit", "s3:ListBucket"): "never called: it changes S3's answer to HEAD/GET of a missing key",
        ("complete", "s3:ListBucket"): "never called: it changes S3's answer to HEAD of a missing key",
        ("complete", "s3:AbortMultipartUpload"): "only when a multipart upload fails midway",
        ("complete", "s3:GetObject"): "only when a retried complete finds the video already stored",
        ("fail", "sqs:SendMessage"): "Lambda sends a failed asynchronous invocation to the DLQ, not our code",
    },
}

#: Grants the code does not call, accepted with a reason: both are CDK's SqsEventSource grant, on the
#: function's own queue only; dropping them means hand-writing the event source mapping's policy.
ACCEPTED_EXTRAS: dict[str, dict[Grant, str]] = {
    "submit": {
        ("sqs:ChangeMessageVisibility", "submit-queue"): "CDK's SqsEventSource grant on its own queue",
        ("sqs:GetQueueUrl", "submit-queue"): "CDK's SqsEventSource grant on its own queue (read-only lookup)",
    },
}


# ---- the template side -------------------------------------------------------------------------------------
def _strip_hash(logical_id: str) -> str:
    return (
        logical_id[:-8] if len(logical_id) > 8 and all(c in "0123456789ABCDEF" for c in logical_id[-8:]) else logical_id
    )


def resource_name(template: dict[str, Any], logical_id: str, own_log_group: str) -> str:
    if logical_id == own_log_group:
        return OWN_LOG_GROUP
    kind = template["Resources"].get(logical_id, {}).get("Type", "")
    base = _strip_hash(logical_id)
    for (resource_type, part), name in RESOURCE_NAMES.items():
        if kind == resource_type and base.endswith(part):
            return name
    return logical_id


def render(template: dict[str, Any], value: Any, own_log_group: str) -> str:
    """A statement's Resource value as a stable name; anything unexpected stays visible as JSON-ish text."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return resource_name(template, argument, own_log_group)
        if function == "Fn::GetAtt":
            return resource_name(template, argument[0], own_log_group)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(render(template, part, own_log_group) for part in parts)
    return f"<unrendered {value!r}>"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class FunctionPolicy:
    grants: frozenset[Grant]
    problems: tuple[str, ...]  # Deny/NotAction/managed policies: anything this test does not model


def function_policies(template: dict[str, Any]) -> dict[str, FunctionPolicy]:
    resources = template["Resources"]
    found: dict[str, FunctionPolicy] = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        name = next((n for n, h in HANDLERS.items() if properties.get("Handler") == h), None)
        if name is None:
            continue
        role = properties["Role"]["Fn::GetAtt"][0]
        own_log_group = properties.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref", "")
        role_properties = resources[role]["Properties"]
        documents = [p["PolicyDocument"] for p in role_properties.get("Policies", [])]
        problems = [f"managed policy {arn!r}" for arn in role_properties.get("ManagedPolicyArns", [])]
        for other in resources.values():
            if other["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": role} in other[
                "Properties"
            ].get("Roles", []):
                documents.append(other["Properties"]["PolicyDocument"])
        grants: set[Grant] = set()
        for document in documents:
            for statement in _as_list(document["Statement"]):
                if statement.get("Effect") != "Allow" or {"NotAction", "NotResource"} & statement.keys():
                    problems.append(f"unmodelled statement {statement!r}")
                    continue
                if statement.get("Condition"):
                    problems.append(f"conditional statement {statement!r}")
                for action in _as_list(statement["Action"]):
                    for value in _as_list(statement["Resource"]):
                        grants.add((action, render(template, value, own_log_group)))
        assert name not in found, f"two functions with handler {HANDLERS[name]}"
        found[name] = FunctionPolicy(frozenset(grants), tuple(problems))
    return found


@pytest.fixture(scope="module")
def policies(cdk_template: dict[str, Any]) -> dict[str, FunctionPolicy]:
    return function_policies(cdk_template)


@pytest.fixture(scope="module")
def expected(cdk_template: dict[str, Any]) -> dict[str, dict[Grant, str]]:
    outputs = cdk_template["Outputs"]
    return expected_grants(outputs["InputPrefix"]["Value"], outputs["OutputPrefix"]["Value"])


def _table(grants: set[Grant] | frozenset[Grant]) -> str:
    return "\n".join(f"    {action} on {resource}" for action, resource in sorted(grants)) or "    (none)"


def test_every_pipeline_function_has_a_policy(policies: dict[str, FunctionPolicy]) -> None:
    assert set(policies) == set(HANDLERS)


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_policy_grants_exactly_the_allow_list(
    function: str, policies: dict[str, FunctionPolicy], expected: dict[str, dict[Grant, str]]
) -> None:
    policy = policies[function]
    assert not policy.problems, f"{function}: statements this test cannot reason about: {policy.problems}"
    allowed = set(expected[function]) | set(ACCEPTED_EXTRAS.get(function, {}))
    missing = set(expected[function]) - policy.grants
    extra = policy.grants - allowed
    assert not missing, f"{function} lacks grants its code needs:\n{_table(missing)}"
    assert not extra, f"{function} is granted more than its code needs:\n{_table(extra)}"


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_no_wildcard_resource_except_where_aws_requires_it(function: str, policies: dict[str, FunctionPolicy]) -> None:
    wildcards = {(a, r) for a, r in policies[function].grants if r == "*" or r.endswith(":*") or "<unrendered" in r}
    required = {grant for grant in PLATFORM if grant[1] == "*"}
    assert wildcards <= required, f"{function} has unscoped resources:\n{_table(wildcards - required)}"
    for action, resource in policies[function].grants:
        assert "*" not in action, f"{function}: wildcard action {action} on {resource}"


# ---- the code side: record what the handlers really call ---------------------------------------------------
FUNCTIONS_DIR = str(Path(__file__).resolve().parents[2] / "functions" / "i2v")
API_KEY = "gmi-key-for-leak-tests-3b8f0d2a71c4"


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The IAM action(s) one API call is authorized as, each with the parameters naming its resource."""
    if service == "s3":
        if operation in ("HeadObject", "GetObject"):
            return [("s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject", params)]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", params)]
        if operation in ("ListObjects", "ListObjectsV2"):
            return [("s3:ListBucket", params)]
        if operation == "ListParts":
            return [("s3:ListMultipartUploadParts", params)]
        return [(f"s3:{operation}", params)]
    if service == "dynamodb" and operation == "TransactWriteItems":
        verbs = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        return [(f"dynamodb:{verbs[kind]}", body) for item in params["TransactItems"] for kind, body in item.items()]
    prefix = {"stepfunctions": "states"}.get(service, service)
    return [(f"{prefix}:{operation}", params)]


class CallRecorder:
    """Runs invocations one at a time and attributes every AWS call made by function code to the function."""

    def __init__(self, stack: LocalStack, names: dict[str, str]) -> None:
        self.names = names  # physical name/ARN/URL -> resource name
        self.performed: dict[str, set[Grant]] = defaultdict(set)
        self._current: str | None = None
        self._gate = threading.Lock()
        self._function_of = {
            spec.name: fn for spec in stack.functions.values() for fn, h in HANDLERS.items() if spec.handler == h
        }

    def before(self, spec: FunctionSpec, event: Any) -> None:
        assert self._gate.acquire(timeout=120), "an invocation did not finish within 120 s"
        self._current = self._function_of.get(spec.name)
        # In AWS each function has its own process: no secret cached by another function's invocation.
        parameters.clear_caches()

    def after(self, spec: FunctionSpec, event: Any, result: Invocation) -> None:
        self._current = None
        self._gate.release()

    @staticmethod
    def _from_function_code() -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(FUNCTIONS_DIR) or "/s3transfer/" in filename:
                return True
            frame = frame.f_back  # type: ignore[assignment]
        return False

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = self._current
        if function is None or not self._from_function_code():
            return
        for action, resource_params in iam_actions(service, operation, params):
            self.performed[function].add((action, self.resource_of(service, resource_params)))

    def resource_of(self, service: str, params: dict[str, Any]) -> str:
        def name(value: str) -> str:
            return self.names.get(value, f"<unknown {value}>")

        if service == "s3":
            bucket = name(params["Bucket"])
            return f"{bucket}/{params['Key']}" if "Key" in params else bucket
        if service == "dynamodb":
            table = name(params["TableName"])
            return f"{table}/index/{params['IndexName']}" if params.get("IndexName") else table
        if service == "events":
            (bus,) = {entry.get("EventBusName", "default") for entry in params["Entries"]}
            return name(bus)
        for key in ("stateMachineArn", "QueueUrl", "SecretId"):
            if key in params:
                return name(params[key])
        return f"<unknown resource of {service}>"


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
        recorder = CallRecorder(stack, names)
        stack.router.before_invoke.append(recorder.before)
        stack.router.after_invoke.append(recorder.after)

        def recording_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            recorder.record(client.meta.service_model.service_name, operation, params)
            return original_call(client, operation, params)

        def recording_presign(self: Any, bucket: str, key: str, version_id: str | None, ttl_seconds: int) -> str:
            recorder.record("s3", "GetObject", {"Bucket": bucket, "Key": key, "VersionId": version_id})
            return original_presign(self, bucket, key, version_id, ttl_seconds)

        BaseClient._make_api_call = recording_call  # type: ignore[method-assign]
        storage.SourceImages.presign_get = recording_presign  # type: ignore[method-assign]

        pipeline = PipelineDriver(stack)
        tap = stack.tap_events()
        jobs = {
            # Two status GETs say "dispatched": poll records progress, then finds it already recorded.
            "succeeded": pipeline.upload("incoming/ok.png", prompt="a cat [sim:dispatched gets=2]"),
            "failed": pipeline.upload("incoming/broken.png", prompt="x [sim:fail message=exploded]"),
        }
        stack.run_until_idle(timeout=60)
        jobs["deferred"] = pipeline.upload("incoming/over-budget.png")  # the daily cap of 2 is used up
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
        yield RecordedRun(dict(recorder.performed), written, statuses)
    finally:
        BaseClient._make_api_call = original_call  # type: ignore[method-assign]
        storage.SourceImages.presign_get = original_presign  # type: ignore[method-assign]
        logger.registered_handler.setStream(previous_stream)  # type: ignore[attr-defined]
        stack.stop()


def test_the_recorded_run_went_through_every_path(recorded_run: RecordedRun) -> None:
    assert recorded_run.statuses == {"succeeded": "succeeded", "failed": "failed", "deferred": "deferred"}
    assert set(recorded_run.performed) == set(HANDLERS), "every function must have run"


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
        if fn == function and any(a == action for a, _ in performed) and (fn, action) not in _platform_keys()
    }
    assert not stale, f"{function}: NOT_EXERCISED says these are never seen, but the run used them: {sorted(stale)}"


def _platform_keys() -> set[tuple[str, str]]:
    return {(fn, action) for fn in HANDLERS for action, _ in PLATFORM}


@pytest.mark.parametrize("kind", ["logs", "records", "events", "handler results and errors", "execution histories"])
def test_no_secret_is_written_down(kind: str, recorded_run: RecordedRun) -> None:
    written = recorded_run.written[kind]
    assert written, f"the run wrote no {kind}: nothing was checked"
    assert_no_secrets(written, secrets=[API_KEY], what=kind)
