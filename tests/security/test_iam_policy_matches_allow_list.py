"""Each Lambda's IAM policy grants exactly its allow-list (tests/support/iam_allow_list.py), and nothing unscoped.

    granted by the template  ==  EXPECTED + ACCEPTED_EXTRAS

"granted": every Allow statement of every policy attached to the function's role in the synthesized template
(AWS::IAM::Policy, inline Policies, managed policies), as (action, resource) pairs with the resources rendered
to stable names. That the code needs no more than EXPECTED is the other half of the check:
tests/security/test_iam_calls_within_allow_list.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from support.iam_allow_list import ACCEPTED_EXTRAS, HANDLERS, OWN_LOG_GROUP, PLATFORM, SCOPED_WILDCARDS, Grant

# Resource names: logical ids (hash removed) of the template's resources -> the names used below.
RESOURCE_NAMES = {
    ("AWS::DynamoDB::Table", "JobsTable"): "table",
    ("AWS::S3::Bucket", "StorageInput"): "input-bucket",
    ("AWS::S3::Bucket", "StorageOutput"): "output-bucket",
    ("AWS::Events::EventBus", "EventBus"): "event-bus",
    ("AWS::SecretsManager::Secret", "GmiApiKey"): "api-key-secret",
    ("AWS::StepFunctions::StateMachine", "StateMachine"): "state-machine",
    ("AWS::SQS::Queue", "SubmitQueue"): "submit-queue",
    ("AWS::SQS::Queue", "WatcherQueue"): "watch-queue",
    ("AWS::SQS::Queue", "FailureDeadLetterQueue"): "failure-dlq",
    ("AWS::SQS::Queue", "SweeperScheduleDeadLetterQueue"): "sweeper-dlq",
    ("AWS::SQS::Queue", "PreviewsDeadLetterQueue"): "previews-dlq",
}


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
    required = {grant for grant in PLATFORM if grant[1] == "*"} | set(SCOPED_WILDCARDS)
    assert wildcards <= required, f"{function} has unscoped resources:\n{_table(wildcards - required)}"
    for action, resource in policies[function].grants:
        assert "*" not in action, f"{function}: wildcard action {action} on {resource}"
