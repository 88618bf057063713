"""Finding a deployed stack through its CloudFormation outputs (moto's CloudFormation stands in for AWS)."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from moto import mock_aws

from i2v_cli import target as cli_target
from i2v_cli.output import CliError

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


def _write_state(path, pid: int) -> None:
    path.write_text(json.dumps({"outputs": OUTPUTS, "env": {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, "pid": pid}))


def test_a_second_local_up_is_refused_and_leaves_the_first_ones_state(tmp_path, monkeypatch, capsys):
    """Issue 28, stumble 5: a second `i2v local up` started silently and, on exit, deleted the first one's state."""
    from fixtures.cli import run

    state = tmp_path / "local.json"
    monkeypatch.setattr(cli_target, "LOCAL_STATE", state)
    _write_state(state, os.getppid())  # a live process that is not this one: the first `local up`

    def must_not_synthesize() -> None:
        raise AssertionError("a second stack was being built")

    monkeypatch.setattr("i2v_local.demo.synthesize_in_own_session", must_not_synthesize)
    code, out, err = run(capsys, "local", "up")
    assert code == 1
    assert f"a local stack is already up (pid {os.getppid()}, AWS at http://127.0.0.1:1)" in " ".join(
        (out + err).split()
    )
    assert state.exists()

    cli_target.clear_local_state()  # what a second stack's exit did: another process's state stays
    assert state.exists()
    _write_state(state, os.getpid())
    cli_target.clear_local_state()
    assert not state.exists()


def test_without_a_local_stack_or_a_region_the_message_starts_with_local_up(tmp_path, monkeypatch):
    """Issue 28, stumble 5: `i2v list` with no local stack used to blame the AWS region alone."""
    monkeypatch.setattr(cli_target, "LOCAL_STATE", tmp_path / "none.json")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # not on EC2: no instance metadata to ask
    with pytest.raises(
        CliError, match=r"^no local stack is running \(start one with `i2v local up`\); .*no AWS region"
    ):
        cli_target.resolve_target("auto")
