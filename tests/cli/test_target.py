"""Finding a deployed stack through its CloudFormation outputs (moto's CloudFormation stands in for AWS)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from i2v_local.cli import target as cli_target
from i2v_local.cli.output import CliError

OUTPUTS = {
    "InputBucketName": "in-bucket",
    "OutputBucketName": "out-bucket",
    "JobsTableName": "jobs",
    "SubmitQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/submit",
}


def _template(outputs: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(cli_target, "LOCAL_STATE", tmp_path / "none.json")
    with mock_aws():
        yield boto3.client("cloudformation", region_name="us-east-1")


def test_deployed_stack_is_found_through_its_outputs(aws):
    aws.create_stack(StackName="MyPipeline", TemplateBody=_template(OUTPUTS))
    found = cli_target.resolve_target("MyPipeline")
    assert found.name == "MyPipeline"
    assert found.outputs["JobsTableName"] == "jobs"


def test_missing_stack_and_foreign_stack_are_clear_errors(aws):
    with pytest.raises(CliError, match="no deployed stack 'Absent'"):
        cli_target.resolve_target("Absent")
    aws.create_stack(StackName="Other", TemplateBody=_template({"Something": "else"}))
    with pytest.raises(CliError, match="not an i2v pipeline"):
        cli_target.resolve_target("Other")
