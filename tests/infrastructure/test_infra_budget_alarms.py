"""Issue 25: alarms at 80 % and 100 % of each daily dollar budget, on the alarm topic, and the spend graphed."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("cdk")


def _template(**budgets: Any) -> dict[str, Any]:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Template

    from i2v_infra.config import PipelineConfig
    from i2v_infra.constructs import ImageToVideoPipeline
    from i2v_infra.nag import ACKNOWLEDGED

    before = len(ACKNOWLEDGED)
    app = cdk.App()
    stack = cdk.Stack(app, "Budgets")
    media = s3.Bucket(stack, "Media", versioned=True, enforce_ssl=True)
    ImageToVideoPipeline(
        stack,
        "I2v",
        config=PipelineConfig(**budgets),
        input_bucket=media,
        output_bucket=media,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    del ACKNOWLEDGED[before:]  # the record of acknowledgments is the pipeline app's (test_infra_compliance)
    return template


def _spend_alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Each alarm on DailySpendUsd, with its metric's fields beside the alarm's (CDK writes a labelled metric as
    a one-metric `Metrics` list)."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        stats = [m["MetricStat"] for m in props.get("Metrics", []) if "MetricStat" in m]
        if len(stats) == 1 and (stat := stats[0])["Metric"]["MetricName"] == "DailySpendUsd":
            found.append({**props, **stat["Metric"], "Statistic": stat["Stat"], "Period": stat["Period"]})
    return found


def test_each_budget_alarms_at_80_and_100_percent_of_its_daily_spend_on_the_alarm_topic() -> None:
    template = _template(daily_budget_usd=10, prefix_budgets={"team-a/": 2.5}, dashboard=True)
    alarms = _spend_alarms(template)
    found = {({d["Name"]: d["Value"] for d in a["Dimensions"]}["budget"], a["Threshold"]) for a in alarms}
    assert found == {("all", 8), ("all", 10), ("team-a/", 2), ("team-a/", 2.5)}
    (topic,) = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
    for alarm in alarms:
        assert alarm["Namespace"] == "ImageToVideo"
        assert {"Name": "service", "Value": "i2v"} in alarm["Dimensions"]
        assert (alarm["Statistic"], alarm["ComparisonOperator"]) == ("Maximum", "GreaterThanOrEqualToThreshold")
        assert alarm["TreatMissingData"] == "ignore"  # a quiet hour keeps the state; the next day's job ends it
        assert alarm["AlarmActions"] == [{"Ref": topic}]
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "GMI spend today" in body
    assert "DailySpendUsd" in body


def test_no_budget_no_spend_alarm() -> None:
    assert _spend_alarms(_template()) == []
