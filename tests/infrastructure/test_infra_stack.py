"""Template assertions, part 1: storage, ingestion, functions and IAM (security and behaviour)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from benchmarks.coldstart import DUMMY_ENV
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import tracing_environment
from i2v_infra.template_tools import (
    only_resource,
    pipeline_function,
    resources_of_type,
    role_statements,
)

pytestmark = pytest.mark.xdist_group("cdk")

CONFIG = PipelineConfig()
HANDLERS = ("submit", "poll", "watch", "complete", "fail", "sweeper")
COMMON_ENV = {
    "JOBS_TABLE_NAME",
    "EVENT_BUS_NAME",
    "EVENT_SOURCE",
    "GMI_BASE_URL",
    "GMI_API_KEY_SECRET_ID",
    "GMI_MODEL_ID",
    "GMI_TIMEOUT_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_TRACE_DISABLED",
}
SPECIFIC_ENV = {  # docs/architecture.md, "Environment variables"
    "submit": {
        "INPUT_PREFIX",
        "OUTPUT_BUCKET",
        "OUTPUT_PREFIX",
        "MAX_IMAGE_BYTES",
        "PRESIGN_TTL_SECONDS",
        "END_FRAME_PREFIX",
        "MANIFEST_PREFIX",
        "DEFAULT_SETTINGS",
        "PREFIX_PRESETS",
        "GMI_PRICES",
        "DAILY_SUBMISSION_CAP",
        "SUBMIT_RATE_PER_MINUTE",
        "GMI_OUTAGE_PATIENCE_SECONDS",
        "BUDGET_EXCEEDED_ACTION",
        "DAILY_BUDGET_USD",
        "PREFIX_BUDGETS",
        "UNPRICED_JOBS_UNDER_BUDGET",
        "SUBMIT_QUEUE_URL",
        "STATE_MACHINE_ARN",
        "POLL_POLICY",
        "JOB_DEADLINE_SECONDS",
    },
    "poll": {"POLL_POLICY", "JOB_DEADLINE_SECONDS"},
    "watch": {"POLL_POLICY", "JOB_DEADLINE_SECONDS", "WATCH_QUEUE_URL"},
    "complete": {
        "OUTPUT_BUCKET",
        "OUTPUT_PREFIX",
        "INPUT_PREFIX",
        "VIDEO_HOST_ALLOWLIST",
        "ALLOW_PRIVATE_VIDEO_ADDRESSES",
        "MAX_VIDEO_BYTES",
        "VIDEO_PART_SIZE_BYTES",
    },
    "fail": set(),
    "sweeper": {"STATE_MACHINE_ARN", "SUBMIT_QUEUE_URL", "SWEEP_SUBMIT_MESSAGE_SECONDS"},
}


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


# ---- storage -----------------------------------------------------------------------------------


def buckets(template_dict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources_of_type(template_dict, "AWS::S3::Bucket").items()}


def test_every_bucket_is_private_encrypted_and_ssl_only(template: Any, template_dict: dict[str, Any]) -> None:
    found = buckets(template_dict)
    assert len(found) == 3  # input, output, access logs
    for props in found.values():
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        rules = props["LifecycleConfiguration"]["Rules"]
        assert {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}.items() <= rules[0].items()
    policies = resources_of_type(template_dict, "AWS::S3::BucketPolicy")
    assert {p["Properties"]["Bucket"]["Ref"] for p in policies.values()} == set(found)
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"NumericLessThan": {"s3:TlsVersion": 1.2}} for s in statements
        )


def test_input_bucket_is_versioned_and_logged(template_dict: dict[str, Any]) -> None:
    logged = {k: v for k, v in buckets(template_dict).items() if "LoggingConfiguration" in v}
    assert len(logged) == 2
    versioned = [k for k, v in logged.items() if v.get("VersioningConfiguration") == {"Status": "Enabled"}]
    assert len(versioned) == 1
    input_bucket = logged[versioned[0]]
    assert input_bucket["LoggingConfiguration"]["LogFilePrefix"] == "input/"
    assert {"Id": "expire-noncurrent-versions", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}.items() <= (
        input_bucket["LifecycleConfiguration"]["Rules"][1].items()
    )


def test_data_is_retained_on_delete(template_dict: dict[str, Any]) -> None:
    for logical_id in buckets(template_dict):
        assert template_dict["Resources"][logical_id]["DeletionPolicy"] == "Retain"
    _table_id, table = only_resource(template_dict, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True


# ---- ingestion ---------------------------------------------------------------------------------


def test_upload_notifications_filter_prefix_and_each_suffix(template_dict: dict[str, Any]) -> None:
    _, notifications = only_resource(template_dict, "Custom::S3BucketNotifications")
    configs = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    seen: dict[str, set[str]] = {}
    for config in configs:
        assert config["Events"] == ["s3:ObjectCreated:*"]
        rules = {r["Name"]: r["Value"] for r in config["Filter"]["Key"]["FilterRules"]}
        seen.setdefault(rules["prefix"], set()).add(rules["suffix"])
    # Images under the input prefix; manifests (issue 27) under their own prefix, to the same submit queue.
    assert seen == {"incoming/": set(CONFIG.allowed_suffixes), "manifests/": {".jsonl", ".csv"}}
    assert len({config["QueueArn"]["Fn::GetAtt"][0] for config in configs}) == 1


def _queue_of(template_dict: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """(logical id, Properties) of the queue whose event source mapping invokes the pipeline function `name`."""
    function_id, _ = pipeline_function(template_dict, name)
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(template_dict, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    return queue_id, template_dict["Resources"][queue_id]["Properties"]


def test_queues_are_encrypted_ssl_only_with_dead_letter_queue(template: Any, template_dict: dict[str, Any]) -> None:
    queues = resources_of_type(template_dict, "AWS::SQS::Queue")
    assert (
        len(queues) == 7
    )  # submit queue, its DLQ, the failure DLQ, the watch queue, its DLQ, the sweeper schedule's DLQ, the previews DLQ
    for props in (q["Properties"] for q in queues.values()):
        assert props["SqsManagedSseEnabled"] is True
    for policy in resources_of_type(template_dict, "AWS::SQS::QueuePolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
    policies = resources_of_type(template_dict, "AWS::SQS::QueuePolicy").values()
    assert sorted(ref["Ref"] for p in policies for ref in p["Properties"]["Queues"]) == sorted(queues)
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": CONFIG.max_receive_count}},
    )
    # Every queue a function reads has a DLQ; the DLQs (and the failure DLQ) keep messages the longest SQS allows.
    redriven = {k for k, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert redriven == {_queue_of(template_dict, "submit")[0], _queue_of(template_dict, "watch")[0]}
    for logical_id in set(queues) - redriven:
        assert queues[logical_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_watch_queue_dead_letters_a_look_after_max_receive_count_deliveries(template_dict: dict[str, Any]) -> None:
    _, queue = _queue_of(template_dict, "watch")
    dead_letter_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    submit_dead_letter_id = _queue_of(template_dict, "submit")[1]["RedrivePolicy"]["deadLetterTargetArn"]
    # Its own DLQ: its alarm (WatchDeadLetterQueueNotEmpty) says which loop failed.
    assert dead_letter_id != submit_dead_letter_id["Fn::GetAtt"][0]
    assert template_dict["Resources"][dead_letter_id]["Type"] == "AWS::SQS::Queue"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == CONFIG.max_receive_count >= 5
    # A job's message outlives no job (the deadline is at most 6 hours).
    assert queue["MessageRetentionPeriod"] == 24 * 3600


@pytest.mark.parametrize("name", ["submit", "watch"])
def test_visibility_timeout_is_at_least_six_times_the_function_timeout(
    template_dict: dict[str, Any], name: str
) -> None:
    _, function = pipeline_function(template_dict, name)
    _, queue = _queue_of(template_dict, name)
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


def test_event_source_mappings_report_item_failures(template: Any, template_dict: dict[str, Any]) -> None:
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    for mapping in resources_of_type(template_dict, "AWS::Lambda::EventSourceMapping").values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # submit: GMI's rate and the budget want few POSTs at once.
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": pipeline_function(template_dict, "submit")[0]},
            "BatchSize": CONFIG.submit_batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": CONFIG.submit_concurrency},
        },
    )
    # watch: a look that is due waits for no batch (detection lag); the pollers hand the function no more
    # batches than its MaximumConcurrency, so no receive is throttled (throttled receives count towards
    # maxReceiveCount).
    (watch,) = [
        m["Properties"]
        for m in resources_of_type(template_dict, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": pipeline_function(template_dict, "watch")[0]}
    ]
    assert watch["BatchSize"] == 10
    assert watch["MaximumBatchingWindowInSeconds"] == 0
    assert watch["ScalingConfig"] == {"MaximumConcurrency": CONFIG.watch_concurrency}


# ---- functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HANDLERS)
def test_function_runtime_tracing_logging(template_dict: dict[str, Any], name: str) -> None:
    _, props = pipeline_function(template_dict, name)
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    # Each SQS-triggered look would be an X-Ray trace of its own: the watch function traces none (trace_looks).
    assert props["TracingConfig"] == {"Mode": "PassThrough" if name == "watch" else "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    log_group = template_dict["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == CONFIG.log_retention_days
    assert 128 <= props["MemorySize"] <= 1024
    assert 30 <= props["Timeout"] <= 900


@pytest.mark.parametrize("name", HANDLERS)
def test_function_environment_matches_the_contract(template_dict: dict[str, Any], name: str) -> None:
    _, props = pipeline_function(template_dict, name)
    env = props["Environment"]["Variables"]
    assert set(env) == COMMON_ENV | SPECIFIC_ENV[name]
    assert env["POWERTOOLS_SERVICE_NAME"] == "i2v"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "ImageToVideo"
    assert env["GMI_MODEL_ID"] == "pixverse-v5.5-i2v"
    # X-Ray SDK off by default, as the cold-start benchmark measures the functions
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true" == DUMMY_ENV["POWERTOOLS_TRACE_DISABLED"]
    if name == "submit":
        assert json.loads(env["DEFAULT_SETTINGS"]) == CONFIG.default_settings
        assert json.loads(env["PREFIX_PRESETS"]) == CONFIG.prefix_presets
        assert json.loads(env["GMI_PRICES"]) == CONFIG.gmi_prices == {}
        assert json.loads(env["POLL_POLICY"]) == CONFIG.poll_policy
        assert env["BUDGET_EXCEEDED_ACTION"] == "reject"
    if name == "complete":
        assert env["ALLOW_PRIVATE_VIDEO_ADDRESSES"] == "false"
        assert env["VIDEO_HOST_ALLOWLIST"] == "storage.googleapis.com,*.storage.googleapis.com"


def test_trace_looks_traces_every_look(opt_in_template_dict: dict[str, Any]) -> None:
    assert pipeline_function(opt_in_template_dict, "watch")[1]["TracingConfig"] == {"Mode": "Active"}


def test_xray_sdk_tracing_switches_the_sdk_on() -> None:
    assert tracing_environment(PipelineConfig()) == {"POWERTOOLS_TRACE_DISABLED": "true"}
    assert tracing_environment(PipelineConfig(xray_sdk_tracing=True)) == {"POWERTOOLS_TRACE_DISABLED": "false"}


def test_every_function_shares_one_asset(template_dict: dict[str, Any]) -> None:
    keys = {pipeline_function(template_dict, name)[1]["Code"]["S3Key"] for name in HANDLERS}
    assert len(keys) == 1


def test_timeouts_fit_the_gmi_timeout(template_dict: dict[str, Any]) -> None:
    assert pipeline_function(template_dict, "complete")[1]["Timeout"] == 900
    assert pipeline_function(template_dict, "poll")[1]["Timeout"] >= 2 * CONFIG.gmi_timeout_seconds
    assert pipeline_function(template_dict, "watch")[1]["Timeout"] >= 2 * CONFIG.gmi_timeout_seconds
    assert pipeline_function(template_dict, "submit")[1]["Timeout"] >= CONFIG.submit_batch_size * (
        CONFIG.gmi_timeout_seconds + 3
    )


# ---- IAM ---------------------------------------------------------------------------------------

EXPECTED_ACTIONS = {
    "submit": {
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
        "sqs:ReceiveMessage", "sqs:SendMessage", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:Query", "events:PutEvents", "secretsmanager:GetSecretValue", "states:StartExecution",
    },
    "poll": {
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        "dynamodb:GetItem", "dynamodb:UpdateItem", "secretsmanager:GetSecretValue",
    },
    "watch": {
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
        "sqs:ReceiveMessage", "sqs:SendMessage", "dynamodb:GetItem", "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue", "states:SendTaskHeartbeat", "states:SendTaskSuccess",
    },
    "complete": {
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        "s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket",
        "dynamodb:GetItem", "dynamodb:UpdateItem", "events:PutEvents", "secretsmanager:GetSecretValue",
    },
    "fail": {
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        "sqs:SendMessage", "dynamodb:GetItem", "dynamodb:UpdateItem", "events:PutEvents",
    },
    "sweeper": {
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:Query", "events:PutEvents",
        "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "states:DescribeExecution",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", HANDLERS)
def test_each_role_has_exactly_the_actions_it_needs(template_dict: dict[str, Any], name: str) -> None:
    _, props = pipeline_function(template_dict, name)
    role_id = props["Role"]["Fn::GetAtt"][0]
    role = template_dict["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = role_statements(template_dict, role_id)
    assert actions_of(statements) == EXPECTED_ACTIONS[name]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Action"]).replace("xray", "")
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def test_the_watch_function_answers_only_its_state_machines_tasks_and_sends_only_to_its_queue(
    template_dict: dict[str, Any],
) -> None:
    machine_id, _ = only_resource(template_dict, "AWS::StepFunctions::StateMachine")
    queue_id, _ = _queue_of(template_dict, "watch")
    role_id = pipeline_function(template_dict, "watch")[1]["Role"]["Fn::GetAtt"][0]
    statements = role_statements(template_dict, role_id)
    task_responses = [s for s in statements if any(a.startswith("states:") for a in actions_of([s]))]
    # Not SendTaskFailure: a look's verdict is always a success (a failing look ends in the heartbeat timeout).
    assert actions_of(task_responses) == {"states:SendTaskSuccess", "states:SendTaskHeartbeat"}
    assert all(_resources(s) == [{"Ref": machine_id}] for s in task_responses)
    queue_statements = [s for s in statements if any(a.startswith("sqs:") for a in actions_of([s]))]
    assert "sqs:SendMessage" in actions_of(queue_statements)
    assert all(_resources(s) == [{"Fn::GetAtt": [queue_id, "Arn"]}] for s in queue_statements)
    # No other function answers task tokens: the Watch state's answer comes from the watch function only.
    for name in set(HANDLERS) - {"watch"}:
        other_role = pipeline_function(template_dict, name)[1]["Role"]["Fn::GetAtt"][0]
        assert not {"states:SendTaskSuccess", "states:SendTaskFailure"} & actions_of(
            role_statements(template_dict, other_role)
        )


def test_the_state_machine_may_send_to_the_watch_queue_only(template_dict: dict[str, Any]) -> None:
    _, machine = only_resource(template_dict, "AWS::StepFunctions::StateMachine")
    queue_id, _ = _queue_of(template_dict, "watch")
    statements = role_statements(template_dict, machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])
    queue_statements = [s for s in statements if any(a.startswith("sqs:") for a in actions_of([s]))]
    assert "sqs:SendMessage" in actions_of(queue_statements)
    assert actions_of(queue_statements) <= {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert all(_resources(s) == [{"Fn::GetAtt": [queue_id, "Arn"]}] for s in queue_statements)
    assert not any(a.startswith("states:") for a in actions_of(statements))  # it answers no task itself


def test_object_access_is_scoped_to_prefixes(template_dict: dict[str, Any]) -> None:
    submit = {"/incoming/*", "/end-frames/*", "/manifests/*"}
    for name, prefixes in (("submit", submit), ("complete", {"/videos/*"})):
        role_id = pipeline_function(template_dict, name)[1]["Role"]["Fn::GetAtt"][0]
        object_statements = [
            s for s in role_statements(template_dict, role_id) if {"s3:GetObject", "s3:PutObject"} & actions_of([s])
        ]
        assert object_statements
        for statement in object_statements:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert {resource["Fn::Join"][1][1] for resource in resources} <= prefixes


def test_only_the_cdk_notification_handler_uses_a_managed_policy(template_dict: dict[str, Any]) -> None:
    with_managed = [
        k
        for k, v in resources_of_type(template_dict, "AWS::IAM::Role").items()
        if "ManagedPolicyArns" in v["Properties"]
    ]
    assert len(with_managed) == 1
    assert with_managed[0].startswith("BucketNotificationsHandler")
