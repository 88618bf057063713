"""Template assertions for the sweeper: its schedule (EventBridge Scheduler), the schedule's role and DLQ, the
function's windows, and its alarms. Scheduler is not emulated locally: what AWS documents is asserted here
(a target's role must allow lambda:InvokeFunction on the target and sqs:SendMessage on its DLQ)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.ingestion import VISIBILITY_TIMEOUT_FACTOR, submit_timeout
from i2v_infra.constructs.sweeper import submit_message_seconds, sweep_timeout_seconds
from i2v_infra.template_tools import only_resource, pipeline_function, resources_of_type, role_statements

pytestmark = pytest.mark.xdist_group("cdk")

CONFIG = PipelineConfig()


def test_the_schedule_runs_the_sweeper_every_interval_with_retries_and_a_dead_letter_queue(
    template_dict: dict[str, Any],
) -> None:
    _, schedule = only_resource(template_dict, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    function_id, function = pipeline_function(template_dict, "sweeper")
    assert props["ScheduleExpression"] == f"rate({CONFIG.sweep_interval_minutes} minutes)"
    assert props["State"] == "ENABLED"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 2}
    dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert template_dict["Resources"][dlq_id]["Type"] == "AWS::SQS::Queue"
    # Two runs never overlap: the function's timeout is shorter than the interval.
    assert function["Timeout"] == sweep_timeout_seconds(CONFIG) < CONFIG.sweep_interval_minutes * 60


def test_a_failed_sweep_is_not_retried_by_lambda_and_raises_an_alarm(template_dict: dict[str, Any]) -> None:
    function_id, _ = pipeline_function(template_dict, "sweeper")
    (config,) = [
        c["Properties"]
        for c in resources_of_type(template_dict, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert config["MaximumRetryAttempts"] == 0  # the next scheduled run is the retry; no overlapping runs
    # A failed run's event goes to the schedule's dead-letter queue, whose alarm covers both kinds of failure.
    _, schedule = only_resource(template_dict, "AWS::Scheduler::Schedule")
    dlq_id = schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq_id, "Arn"]}


def test_the_schedules_role_may_invoke_only_the_sweeper_and_write_only_its_dead_letter_queue(
    template_dict: dict[str, Any],
) -> None:
    _, schedule = only_resource(template_dict, "AWS::Scheduler::Schedule")
    target = schedule["Properties"]["Target"]
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    role = template_dict["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    grants = {(s["Action"], json.dumps(s["Resource"])) for s in role_statements(template_dict, role_id)}
    assert grants == {
        ("lambda:InvokeFunction", json.dumps(target["Arn"])),
        ("sqs:SendMessage", json.dumps(target["DeadLetterConfig"]["Arn"])),
    }


def test_the_sweeper_knows_how_long_a_submit_message_may_still_move_a_job(template_dict: dict[str, Any]) -> None:
    _, function = pipeline_function(template_dict, "sweeper")
    env = function["Environment"]["Variables"]
    visibility = int(submit_timeout(CONFIG).to_seconds()) * VISIBILITY_TIMEOUT_FACTOR
    queue = next(
        q["Properties"]
        for logical_id, q in resources_of_type(template_dict, "AWS::SQS::Queue").items()
        if "SubmitQueue" in logical_id
    )
    assert queue["VisibilityTimeout"] == visibility  # the same visibility timeout the window is computed from
    assert int(env["SWEEP_SUBMIT_MESSAGE_SECONDS"]) == submit_message_seconds(CONFIG)
    assert submit_message_seconds(CONFIG) == CONFIG.max_receive_count * visibility + 900


def test_an_alarm_fires_when_the_sweeper_had_to_act_and_when_its_schedule_failed(
    template_dict: dict[str, Any],
) -> None:
    alarms = resources_of_type(template_dict, "AWS::CloudWatch::Alarm")
    (acted,) = [a["Properties"] for logical_id, a in alarms.items() if "SweeperActed" in logical_id]
    # One metric (an alarm is billed per metric it reads), counted by the service for every action.
    assert [m["MetricStat"]["Metric"]["MetricName"] for m in acted["Metrics"]] == ["SweeperActed"]
    _, schedule = only_resource(template_dict, "AWS::Scheduler::Schedule")
    dlq_id = schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert any(
        a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
        for a in alarms.values()
    )
