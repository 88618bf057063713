"""Read the synthesized template without CDK: the state machine definition and the functions.

For tests and the local stack::

    from i2v_infra.synth import synthesize_template
    from i2v_infra.template_tools import state_machine_definition, functions_by_handler

    template = synthesize_template()
    definition = state_machine_definition(template)          # dict; Lambda ARNs rendered as below
    handlers = functions_by_handler(template)                 # {"i2v.handlers.poll.handler": "<LogicalId>", ...}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Template = dict[str, Any]


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only_resource(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources_of_type(template, resource_type)
    if len(found) != 1:
        raise LookupError(f"expected exactly one {resource_type}, found {sorted(found)}")
    return next(iter(found.items()))


def default_token(value: dict[str, Any]) -> str:
    """``{"Fn::GetAtt": ["PollFn", "Arn"]}`` -> ``arn:aws:lambda:us-east-1:000000000000:function:PollFn``."""
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return f"arn:aws:lambda:us-east-1:000000000000:function:{value['Fn::GetAtt'][0]}"
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    raise ValueError(f"unexpected token in definition: {value!r}")


def render(value: Any, token: Callable[[dict[str, Any]], str] = default_token) -> str:
    """A (possibly Fn::Join-ed) CloudFormation string with every token replaced by ``token(...)``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part, token) for part in parts)
    if isinstance(value, dict):
        return token(value)
    raise ValueError(f"cannot render {value!r}")


def state_machine_definition(
    template: Template, token: Callable[[dict[str, Any]], str] = default_token
) -> dict[str, Any]:
    """The Amazon States Language definition of the (single) state machine, as a dict."""
    _, machine = only_resource(template, "AWS::StepFunctions::StateMachine")
    definition: dict[str, Any] = json.loads(render(machine["Properties"]["DefinitionString"], token))
    return definition


def functions_by_handler(template: Template) -> dict[str, str]:
    """Handler path -> logical id of every pipeline function (CDK's own helper functions excluded)."""
    return {
        props["Handler"]: logical_id
        for logical_id, resource in resources_of_type(template, "AWS::Lambda::Function").items()
        if (props := resource["Properties"]).get("Handler", "").startswith("i2v.handlers.")
    }


def pipeline_function(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    """(logical id, Properties) of the pipeline function ``name`` (submit, poll, complete or fail)."""
    logical_id = functions_by_handler(template)[f"i2v.handlers.{name}.handler"]
    return logical_id, template["Resources"][logical_id]["Properties"]


def role_statements(template: Template, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to a role."""
    statements: list[dict[str, Any]] = []
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements
