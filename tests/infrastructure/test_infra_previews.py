"""The previews function in the template: subscribed to Succeeded on our bus (off the critical path), no retry
loop (Lambda's async retries 0, a dead-letter queue), and alarms on undecodable videos and on that queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v_infra.template_tools import pipeline_function, resources_of_type

pytestmark = pytest.mark.xdist_group("cdk")


def test_a_rule_on_our_bus_sends_succeeded_events_to_the_previews_function(template_dict: dict[str, Any]) -> None:
    previews_id, previews = pipeline_function(template_dict, "previews")
    (rule,) = [
        r["Properties"]
        for r in resources_of_type(template_dict, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("detail-type") == ["Video Generation Succeeded"]
    ]
    assert rule["EventPattern"]["source"] == ["i2v.pipeline"]
    assert "EventBusName" in rule  # the pipeline's own bus, not the default one
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [previews_id, "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == previews["DeadLetterConfig"]["TargetArn"]
    # The state machine never waits for it: no state of the definition names the previews function.
    machine = next(iter(resources_of_type(template_dict, "AWS::StepFunctions::StateMachine").values()))
    assert previews_id not in str(machine["Properties"]["DefinitionString"])


def test_no_retry_loop(template_dict: dict[str, Any]) -> None:
    previews_id, _ = pipeline_function(template_dict, "previews")
    (config,) = [
        c["Properties"]
        for c in resources_of_type(template_dict, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": previews_id}
    ]
    assert config["MaximumRetryAttempts"] == 0
    assert config["MaximumEventAgeInSeconds"] <= 6 * 3600


def test_the_function_reads_and_writes_only_the_output_prefix(template_dict: dict[str, Any]) -> None:
    _, previews = pipeline_function(template_dict, "previews")
    assert set(previews["Environment"]["Variables"]) >= {"JOBS_TABLE_NAME", "EVENT_BUS_NAME", "EVENT_SOURCE"}
    assert previews["Architectures"] == ["arm64"]
    assert previews["MemorySize"] >= 1024


def test_undecodable_videos_and_the_dead_letter_queue_raise_alarms(template_dict: dict[str, Any]) -> None:
    _, previews = pipeline_function(template_dict, "previews")
    alarms = [a["Properties"] for a in resources_of_type(template_dict, "AWS::CloudWatch::Alarm").values()]
    undecodable = [a for a in alarms if '"MetricName": "UndecodableVideos"' in json.dumps(a)]
    assert len(undecodable) == 1
    assert '"Namespace": "ImageToVideo"' in json.dumps(undecodable[0])
    dlq_id = previews["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    assert any(
        a.get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}] for a in alarms
    )
