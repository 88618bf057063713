"""Which pipeline the CLI talks to: the local stack of `i2v local up`, or a stack deployed with CDK."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from i2v.adapters.aws import reset_clients
from i2v.adapters.repository import JobRepository
from i2v_cli.output import CliError

DEFAULT_STACK = os.environ.get("I2V_STACK_NAME", "ImageToVideoPipeline")
STATE_DIR = Path(os.environ.get("I2V_STATE_DIR", ".i2v"))
LOCAL_STATE = STATE_DIR / "local.json"
REQUIRED_OUTPUTS = ("InputBucketName", "OutputBucketName", "JobsTableName", "SubmitQueueUrl")


@dataclass
class Target:
    name: str
    outputs: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # submit/poll/complete/fail -> function name

    def activate(self) -> Target:
        """Point boto3 (ours and the adapters') at this target."""
        os.environ.update(self.env)
        reset_clients()
        return self

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(service)  # type: ignore[call-overload]

    def repository(self) -> JobRepository:
        return JobRepository(self.outputs["JobsTableName"])

    def function_name(self, short: str) -> str:
        """The deployed name of our `short` function (found by its handler in the stack's resources)."""
        if not self.functions and self.name != "local":
            cloudformation, lambdas = self.client("cloudformation"), self.client("lambda")
            pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=self.name)
            for page in pages:
                for resource in page["StackResourceSummaries"]:
                    if resource["ResourceType"] == "AWS::Lambda::Function":
                        config = lambdas.get_function_configuration(FunctionName=resource["PhysicalResourceId"])
                        handler = str(config.get("Handler", ""))
                        if handler.startswith("i2v.handlers."):
                            self.functions[handler.split(".")[2]] = resource["PhysicalResourceId"]
        if short not in self.functions:
            raise CliError(f"no {short!r} function in {self.name} (known: {', '.join(sorted(self.functions))})")
        return self.functions[short]

    @property
    def input_prefix(self) -> str:
        return self.outputs.get("InputPrefix", "incoming/")

    @property
    def end_frame_prefix(self) -> str:
        return self.outputs.get("EndFramePrefix", "end-frames/")


def write_local_state(outputs: dict[str, str], env: dict[str, str], functions: dict[str, str]) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    state = {"outputs": outputs, "env": env, "functions": functions, "pid": os.getpid()}
    LOCAL_STATE.write_text(json.dumps(state, indent=2))


def clear_local_state() -> None:
    """Remove the state file, only if this process wrote it: another `i2v local up` may own it."""
    state = _read_state()
    if state is not None and int(state.get("pid", 0)) == os.getpid():
        LOCAL_STATE.unlink(missing_ok=True)


def _read_state() -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(LOCAL_STATE.read_text())
    except (OSError, ValueError):
        return None
    return state


def running_local_state() -> dict[str, Any] | None:
    """The state of an `i2v local up` whose process still runs (None if none, or it is gone)."""
    state = _read_state()
    if state is None:
        return None
    try:
        os.kill(int(state.get("pid", 0)), 0)
    except (OSError, ValueError, OverflowError):
        return None  # the `i2v local up` that wrote it is gone
    return state


def _local_target() -> Target | None:
    state = running_local_state()
    if state is None:
        return None
    return Target("local", dict(state["outputs"]), dict(state["env"]), dict(state.get("functions", {})))


def _deployed_target(stack_name: str, no_local: bool = False) -> Target:
    """`no_local`: the stack was looked for because no local stack runs, which the user should hear first."""
    before = "no local stack is running (start one with `i2v local up`); for a deployed stack, " if no_local else ""
    try:
        stacks = boto3.session.Session().client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError:
        raise CliError(
            before + "no AWS credentials found; configure them, or run `i2v local up` for a local stack"
        ) from None
    except NoRegionError:
        raise CliError(before + "no AWS region configured; set AWS_REGION or AWS_DEFAULT_REGION") from None
    except ClientError as error:
        raise CliError(f"no deployed stack {stack_name!r} found: {error.response['Error']['Message']}") from None
    except BotoCoreError as error:
        raise CliError(f"{before}could not reach CloudFormation: {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise CliError(f"stack {stack_name!r} is not an i2v pipeline (missing outputs {', '.join(missing)})")
    return Target(stack_name, outputs)


def resolve_target(where: str) -> Target:
    """`local`, `aws` (the stack named by --stack / I2V_STACK_NAME), or `auto`: a running local stack first."""
    if where in ("local", "auto"):
        local = _local_target()
        if local is not None:
            return local.activate()
        if where == "local":
            raise CliError("no local stack is running; start one with `i2v local up` (or try `i2v demo`)")
    stack = DEFAULT_STACK if where in ("auto", "aws") else where
    return _deployed_target(stack, no_local=where == "auto").activate()
