"""Template assertions, part 2: the workflow, records and events, monitoring, outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from i2v_infra.config import PipelineConfig
from i2v_infra.template_tools import functions_by_handler, only_resource, pipeline_function, resources_of_type

pytestmark = pytest.mark.xdist_group("cdk")

CONFIG = PipelineConfig()


# ---- workflow ----------------------------------------------------------------------------------


def test_state_machine_is_standard_logged_traced_with_timeout(template_dict: dict[str, Any]) -> None:
    from i2v_infra.template_tools import state_machine_definition

    _, machine = only_resource(template_dict, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    # No execution data: the Watch task's parameters hold its task token (test_infra_aws_semantics, defect 8).
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    log_group = template_dict["Resources"][
        props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    ]
    assert log_group["Properties"]["RetentionInDays"] == CONFIG.log_retention_days
    definition = state_machine_definition(template_dict)
    assert definition["TimeoutSeconds"] >= CONFIG.job_deadline_seconds + CONFIG.workflow_timeout_margin_seconds


def test_state_machine_follows_the_contract(template_dict: dict[str, Any]) -> None:
    from i2v_infra.template_tools import state_machine_definition

    definition = state_machine_definition(template_dict)
    states = definition["States"]
    assert definition["StartAt"] == "AlreadyDone?"
    assert set(states) == {
        "AlreadyDone?",
        "Watch",
        "Wait",
        "Poll",
        "Route",
        "Complete",
        "Done",
        "RecordFailure",
        "JobFailed",
    }
    # A job whose chain of looks failed once, or whose state lacks what Watch reads (the previous release's
    # input), goes to the fallback loop (test_infra_aws_semantics: defects 3 and 7).
    not_watchable = {
        "Or": [
            {"Variable": "$.watch_error", "IsPresent": True},
            {"Variable": "$.poll.queue_delay_seconds", "IsPresent": False},
        ],
        "Next": "Wait",
    }
    assert states["AlreadyDone?"]["Choices"] == [
        {"Variable": "$.poll.outcome", "StringEquals": "succeeded", "Next": "Complete"},
        not_watchable,
    ]
    assert states["Route"]["Choices"][-1] == not_watchable
    # The poll loop is the Watch state; Wait -> Poll is its fallback (and the store loop's first step).
    assert states["AlreadyDone?"]["Default"] == "Watch"
    assert states["Route"]["Default"] == "Watch"
    assert states["Wait"] == {"Type": "Wait", "SecondsPath": "$.poll.next_wait_seconds", "Next": "Poll"}
    assert states["Done"]["Type"] == states["JobFailed"]["Type"] == "Succeed"
    handlers = {v: k for k, v in functions_by_handler(template_dict).items()}
    expected = {
        "Poll": ("i2v.handlers.poll.handler", "$.poll", "Route"),
        "Complete": ("i2v.handlers.complete.handler", "$.complete", "Done"),
        "RecordFailure": ("i2v.handlers.fail.handler", "$.failure_recorded", "JobFailed"),
    }
    for name, (handler, result_path, next_state) in expected.items():
        state = states[name]
        assert handlers[state["Resource"].rsplit(":", 1)[1]] == handler  # payload-response-only invoke
        assert state["ResultPath"] == result_path
        assert state["Next"] == next_state
        retries = {tuple(r["ErrorEquals"]): r for r in state["Retry"]}
        lambda_errors = (
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
            "Lambda.ClientExecutionTimeoutException",
        )
        assert retries[lambda_errors]["MaxAttempts"] == 6
        assert retries[("TransientError", "VideoNotStoredError")]["MaxAttempts"] == 5
        assert retries[("Lambda.Unknown", "Sandbox.Timedout")]["MaxAttempts"] == 2  # a crashed function, once more
        for retry in retries.values():
            assert retry["BackoffRate"] == 2
            assert retry["JitterStrategy"] == "FULL"
        catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]
        if name == "Complete":  # a video not stored yet goes back to the poll loop first
            catch = [{"ErrorEquals": ["VideoNotStoredError"], "ResultPath": "$.store_error", "Next": "Poll"}, *catch]
        assert state.get("Catch") == (None if name == "RecordFailure" else catch)
    assert "Parameters" not in states["Poll"]
    assert "Parameters" not in states["RecordFailure"]
    assert states["Complete"]["Parameters"] == {
        "job_id.$": "$.job_id",
        "request_id.$": "$.request_id",
        "attempt.$": "$.attempt",
        "store_loop": True,  # this definition catches VideoNotStoredError
    }


def _watch_queue(template_dict: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    watch_id, _ = pipeline_function(template_dict, "watch")
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(template_dict, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": watch_id}
    ]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    return queue_id, template_dict["Resources"][queue_id]["Properties"]


def test_the_watch_state_sends_the_job_to_the_watch_queue_and_waits_for_its_answer(
    template_dict: dict[str, Any],
) -> None:
    from i2v.domain.workflow import SQS_MAX_DELAY_SECONDS, WatchMessage
    from i2v_infra.template_tools import state_machine_definition

    queue_id, queue = _watch_queue(template_dict)
    watch = state_machine_definition(template_dict)["States"]["Watch"]
    heartbeat = (
        SQS_MAX_DELAY_SECONDS + (queue["RedrivePolicy"]["maxReceiveCount"] - 1) * queue["VisibilityTimeout"] + 60
    )
    assert watch == {
        "Type": "Task",
        "Comment": watch["Comment"],
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": f"${{{queue_id}}}",  # the queue the watch function's event source mapping reads
            "DelaySeconds.$": "$.poll.queue_delay_seconds",
            "MessageBody": {"task_token.$": "$$.Task.Token", "state.$": "$"},
        },
        # Explicit: AWS's default (99999999 s) is not the States Language's, nor moto's interpreter's (60 s).
        "HeartbeatSeconds": heartbeat,
        "TimeoutSeconds": CONFIG.job_deadline_seconds + heartbeat,
        "ResultPath": "$.poll",  # the watcher's verdict, routed like a Poll result
        "Next": "Route",
        # No Retry: SQS refusing the message, or a chain of looks that stopped heartbeating, goes to the
        # fallback loop after the wait the last verdict asked for.
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.watch_error", "Next": "Wait"}],
    }
    # The message is what the watch function reads (it adds `due_at` and `look` when it sends the job on itself).
    body = {key.removesuffix(".$") for key in watch["Parameters"]["MessageBody"]}
    assert body | {"due_at", "look"} == set(WatchMessage.model_fields)
    # A healthy chain heartbeats at least once per longest SQS delay, even when a look's every delivery but the
    # last before the DLQ fails before its heartbeat.
    redeliveries = queue["RedrivePolicy"]["maxReceiveCount"] - 1
    assert watch["HeartbeatSeconds"] > SQS_MAX_DELAY_SECONDS + redeliveries * queue["VisibilityTimeout"]
    assert watch["TimeoutSeconds"] > CONFIG.job_deadline_seconds


def _paths_in(node: Any) -> list[str]:
    """Every JSON path a definition reads or writes (Variable, *Path, "key.$" parameters)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if (
                isinstance(value, str)
                and value.startswith("$.")
                and (key.endswith(("Path", ".$")) or key == "Variable")
            ):
                found.append(value)
            found.extend(_paths_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_paths_in(item))
    return found


def test_every_state_machine_path_is_a_field_of_the_workflow_models(template_dict: dict[str, Any]) -> None:
    from i2v.domain.polling import PollOutcome
    from i2v.domain.workflow import CompletePayload, ExecutionState, json_path
    from i2v_infra.template_tools import state_machine_definition

    definition = state_machine_definition(template_dict)
    paths = _paths_in(definition["States"])
    assert {
        "$.poll",
        "$.poll.outcome",
        "$.poll.next_wait_seconds",
        "$.poll.queue_delay_seconds",
        "$.error",
        "$.store_error",
        "$.watch_error",
        "$.job_id",
    } <= set(paths)
    for path in paths:
        assert json_path(ExecutionState, *path.removeprefix("$.").split(".")) == path
    compared = [
        rule["StringEquals"]
        for state in definition["States"].values()
        for choice in state.get("Choices", [])
        for rule in [choice, *choice.get("Or", [])]
        if "StringEquals" in rule
    ]
    assert set(compared) == {str(outcome) for outcome in PollOutcome if outcome != PollOutcome.WAITING}
    complete_keys = {key.removesuffix(".$") for key in definition["States"]["Complete"]["Parameters"]}
    assert complete_keys == set(CompletePayload.model_fields)


def test_failed_executions_reach_the_fail_function(template_dict: dict[str, Any]) -> None:
    (rule,) = [
        r
        for r in resources_of_type(template_dict, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.states"]
    ]
    props = rule["Properties"]
    machine_id, _ = only_resource(template_dict, "AWS::StepFunctions::StateMachine")
    assert props["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [{"Ref": machine_id}]},
    }
    fail_id, fail = pipeline_function(template_dict, "fail")
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fail_id, "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == fail["DeadLetterConfig"]["TargetArn"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


# ---- records and events ------------------------------------------------------------------------


def test_jobs_table(template: Any) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-source",
                    "KeySchema": [
                        {"AttributeName": "source_id", "KeyType": "HASH"},
                        {"AttributeName": "created_at", "KeyType": "RANGE"},
                    ],
                    # Narrow (issue 25): a write of the job item rewrites no entry here unless it changes the keys.
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
                {
                    "IndexName": "by-status",
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "updated_at", "KeyType": "RANGE"},
                    ],
                    # What the cold-class history reads; the CLI and the others read whole records by key.
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["model", "generation_seconds"]},
                },
                {
                    "IndexName": "by-time-class",
                    "KeySchema": [
                        {"AttributeName": "history_key", "KeyType": "HASH"},
                        {"AttributeName": "updated_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["generation_seconds"]},
                },
            ],
        },
    )


def test_wide_indexes_keep_the_projection_of_older_stacks() -> None:
    # CloudFormation cannot change an index's projection in place: a stack deployed before keeps ALL.
    import aws_cdk as cdk

    from i2v_infra.constructs.records import Records

    stack = cdk.Stack(cdk.App(), "Wide")
    Records(stack, "Records", config=PipelineConfig(wide_indexes=True))
    from aws_cdk.assertions import Template

    indexes = Template.from_stack(stack).find_resources("AWS::DynamoDB::Table")
    (props,) = [r["Properties"] for r in indexes.values()]
    projections = {g["IndexName"]: g["Projection"]["ProjectionType"] for g in props["GlobalSecondaryIndexes"]}
    assert projections == {"by-source": "ALL", "by-status": "ALL", "by-time-class": "INCLUDE"}


def test_event_bus_has_an_archive_of_pipeline_events(template_dict: dict[str, Any]) -> None:
    bus_id, _ = only_resource(template_dict, "AWS::Events::EventBus")
    _, archive = only_resource(template_dict, "AWS::Events::Archive")
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["EventPattern"] == {"source": [CONFIG.event_source]}
    assert archive["Properties"]["RetentionDays"] == CONFIG.event_archive_retention_days


def test_secret_value_never_appears_in_the_template(template_dict: dict[str, Any]) -> None:
    _, secret = only_resource(template_dict, "AWS::SecretsManager::Secret")
    props = secret["Properties"]
    assert "SecretString" not in props
    assert json.loads(props["GenerateSecretString"]["SecretStringTemplate"]) == {"api_key": ""}


# ---- monitoring --------------------------------------------------------------------------------


def test_alarms_notify_a_tls_only_topic_encrypted_at_rest_when_asked(
    template_dict: dict[str, Any], tmp_path: Path
) -> None:
    from i2v_infra.nag import ACKNOWLEDGED
    from i2v_infra.synth import synthesize

    topic_id, topic = only_resource(template_dict, "AWS::SNS::Topic")
    # By default no customer managed key: $1.00 a month for alarm names and states (issue 25's idle bill).
    assert "KmsMasterKeyId" not in topic["Properties"]
    assert resources_of_type(template_dict, "AWS::KMS::Key") == {}
    before = len(ACKNOWLEDGED)
    encrypted = synthesize(tmp_path, nag=False, config_overrides={"alarm_topic_cmk": True}).template
    del ACKNOWLEDGED[before:]  # the record of acknowledgments is the default app's (test_infra_compliance)
    _, cmk_topic = only_resource(encrypted, "AWS::SNS::Topic")
    key_id, key = only_resource(encrypted, "AWS::KMS::Key")
    assert cmk_topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert any(
        s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        for s in key["Properties"]["KeyPolicy"]["Statement"]
    )
    _, topic_policy = only_resource(template_dict, "AWS::SNS::TopicPolicy")
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in topic_policy["Properties"]["PolicyDocument"]["Statement"]
    )
    alarms = resources_of_type(template_dict, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 12  # 8 of monitoring.py, the sweeper's 2, the previews construct's 2
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        # All but the watch queue's oldest-message age fire on the first occurrence.
        assert props["Threshold"] == 0 or props["MetricName"] == "ApproximateAgeOfOldestMessage"
        assert props["TreatMissingData"] == "notBreaching"


def test_alarm_metrics(template_dict: dict[str, Any]) -> None:
    alarms = [a["Properties"] for a in resources_of_type(template_dict, "AWS::CloudWatch::Alarm").values()]
    text = json.dumps(alarms)
    submit_id, _ = pipeline_function(template_dict, "submit")
    queue_metrics = [a for a in alarms if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    assert len(queue_metrics) == 5  # submit DLQ, failure DLQ, watch DLQ, sweeper schedule DLQ, previews DLQ
    watch_dlq = _watch_queue(template_dict)[1]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    (watch_alarm,) = [
        a
        for a in queue_metrics
        if a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [watch_dlq, "QueueName"]}}]
    ]
    assert watch_alarm["Statistic"] == "Maximum"
    assert watch_alarm["Period"] == 60
    assert any(a.get("MetricName") == "Errors" and a["Dimensions"][0]["Value"] == {"Ref": submit_id} for a in alarms)
    assert "ExecutionsFailed" in text
    assert "ExecutionsTimedOut" in text
    ambiguous = [a for a in alarms if "SubmitAmbiguous" in json.dumps(a)]
    assert ambiguous[0]["Metrics"][0]["MetricStat"]["Metric"] == {
        "Dimensions": [{"Name": "service", "Value": "i2v"}],
        "MetricName": "SubmitAmbiguous",
        "Namespace": "ImageToVideo",
    }
    (unknown,) = [a for a in alarms if "UnknownGmiStatus" in json.dumps(a)]
    assert unknown["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] == "UnknownGmiStatus"


def _our_metric_names(template_dict: dict[str, Any]) -> set[str]:
    """Names of the metrics in the functions' namespace that the alarms and the dashboard watch."""
    alarms = json.dumps(resources_of_type(template_dict, "AWS::CloudWatch::Alarm"))
    watched = set(re.findall(r'"MetricName": "(\w+)", "Namespace": "ImageToVideo"', alarms))
    _, dashboard = only_resource(template_dict, "AWS::CloudWatch::Dashboard")
    body = "".join(part for part in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1] if isinstance(part, str))
    return watched | set(re.findall(r'\["ImageToVideo","(\w+)"', body))


def test_alarms_and_dashboard_watch_only_metrics_the_functions_emit(opt_in_template_dict: dict[str, Any]) -> None:
    from i2v.domain.metric_names import MetricName

    watched = _our_metric_names(opt_in_template_dict)
    assert {"SubmitAmbiguous", "JobsSubmitted", "JobsSucceeded"} <= watched  # the parsing finds them
    # Every MetricName is emitted by some service branch: tests/unit/services/test_metric_names.py.
    assert watched <= {str(name) for name in MetricName}


def test_the_dashboard_graphs_every_dead_letter_queue(opt_in_template_dict: dict[str, Any]) -> None:
    template_dict = opt_in_template_dict
    _, dashboard = only_resource(template_dict, "AWS::CloudWatch::Dashboard")
    tokens = [part for part in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1] if not isinstance(part, str)]
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in resources_of_type(template_dict, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    assert _watch_queue(template_dict)[1]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] in alarmed
    for queue_id in alarmed:
        assert {"Fn::GetAtt": [queue_id, "QueueName"]} in tokens


def test_no_dashboard_and_no_email_subscription_by_default(template: Any, template_dict: dict[str, Any]) -> None:
    # The dashboard costs $3.00 a month, more than the rest of an idle stack: opt-in (config dashboard).
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    assert "DashboardName" not in template_dict["Outputs"]
    template.resource_count_is("AWS::SNS::Subscription", 0)


def test_the_dashboard_is_opt_in(opt_in_template_dict: dict[str, Any]) -> None:
    only_resource(opt_in_template_dict, "AWS::CloudWatch::Dashboard")
    assert "DashboardName" in opt_in_template_dict["Outputs"]


def test_every_log_group_has_retention(template_dict: dict[str, Any]) -> None:
    groups = resources_of_type(template_dict, "AWS::Logs::LogGroup")
    assert len(groups) == 8  # seven functions and the state machine
    assert all(g["Properties"]["RetentionInDays"] == CONFIG.log_retention_days for g in groups.values())


# ---- outputs -----------------------------------------------------------------------------------


def test_outputs_the_cli_relies_on(template_dict: dict[str, Any]) -> None:
    from i2v_infra.stack import OUTPUT_KEYS

    outputs = template_dict["Outputs"]
    assert set(OUTPUT_KEYS) <= set(outputs)
    assert outputs["InputPrefix"]["Value"] == "incoming/"
    assert outputs["OutputPrefix"]["Value"] == "videos/"
    machine_id, _ = only_resource(template_dict, "AWS::StepFunctions::StateMachine")
    assert outputs["StateMachineArn"]["Value"] == {"Ref": machine_id}


def test_the_moto_jobs_table_has_the_templates_keys_and_indexes(template_dict: dict[str, Any]) -> None:
    """Repository tests and the pacing benchmark make the table from i2v_local.jobs_table: keep it the template's."""
    from i2v_local.jobs_table import create_jobs_table

    class Capture:
        request: dict[str, Any] = {}

        def create_table(self, **request: Any) -> None:
            Capture.request = request

    create_jobs_table(Capture(), "t")
    _, table = only_resource(template_dict, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert Capture.request["KeySchema"] == props["KeySchema"]
    assert Capture.request["GlobalSecondaryIndexes"] == props["GlobalSecondaryIndexes"]
    assert sorted(map(str, Capture.request["AttributeDefinitions"])) == sorted(map(str, props["AttributeDefinitions"]))
