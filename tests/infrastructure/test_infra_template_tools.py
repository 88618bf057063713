"""Helpers that read the synthesized template for the workflow tests and the local stack."""

from __future__ import annotations

import json

import pytest

from i2v_infra.template_tools import functions_by_handler, render, state_machine_definition

TEMPLATE = {
    "Resources": {
        "PollFn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "i2v.handlers.poll.handler"}},
        "Helper": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "index.handler"}},
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "DefinitionString": {
                    "Fn::Join": [
                        "",
                        [
                            '{"StartAt":"Poll","States":{"Poll":{"Type":"Task","Resource":"',
                            {"Fn::GetAtt": ["PollFn", "Arn"]},
                            '","End":true}}}',
                        ],
                    ]
                }
            },
        },
    }
}


def test_definition_renders_function_arns() -> None:
    definition = state_machine_definition(TEMPLATE)
    assert definition["States"]["Poll"]["Resource"] == "arn:aws:lambda:us-east-1:000000000000:function:PollFn"


def test_custom_token_renderer() -> None:
    definition = state_machine_definition(TEMPLATE, lambda token: f"fn:{token['Fn::GetAtt'][0]}")
    assert definition["States"]["Poll"]["Resource"] == "fn:PollFn"


def test_functions_by_handler_skips_cdk_helpers() -> None:
    assert functions_by_handler(TEMPLATE) == {"i2v.handlers.poll.handler": "PollFn"}


def test_render_rejects_unknown_intrinsics() -> None:
    with pytest.raises(ValueError, match="unexpected token"):
        render({"Fn::Join": ["", [{"Fn::ImportValue": "x"}]]})
    assert render({"Fn::Join": ["/", ["a", {"Ref": "B"}]]}) == "a/${B}"
    assert json.loads(render('{"a": 1}')) == {"a": 1}
