"""cdk-nag: the rule packs we run and every acknowledgment (finding id + reason), in one vocabulary.

Acknowledgments are attached to the narrowest construct that owns the finding. IAM5 findings are
acknowledged one finding at a time (``AwsSolutions-IAM5[Resource::...]``), never for the whole rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct


@dataclass(frozen=True)
class Ack:
    path: str
    id: str
    reason: str


#: Every acknowledgment made while building the app (tests check them; docs list them).
ACKNOWLEDGED: list[Ack] = []

XRAY_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; AWS requires "
    "Resource '*' for active tracing (added by CDK's Tracing.ACTIVE / tracingEnabled)."
)


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding on ``scope`` (and its children) with a reviewer-facing reason."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))
    ACKNOWLEDGED.append(Ack(scope.node.path, finding, reason))


def acknowledge_xray(scope: IConstruct) -> None:
    acknowledge(scope, "AwsSolutions-IAM5[Resource::*]", XRAY_REASON)


def add_checks(app: cdk.App) -> None:
    """Run AwsSolutions and Serverless packs as CDK policy-validation plugins on the whole app."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def _render(value: Any) -> str:
    """A resolved CloudFormation value the way cdk-nag prints it in finding ids (<Logical.Attr>)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return str(arg[0]).join(_render(part) for part in arg[1])
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding resource")


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge exactly one IAM5 wildcard resource (e.g. ``bucket.arn_for_objects('incoming/*')``)."""
    rendered = _render(cdk.Stack.of(scope).resolve(resource))
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{rendered}]", reason)
