"""Intrinsic resolution of the local stack, on a small template (no moto needed)."""

from __future__ import annotations

import pytest

from i2v_local.stack.template import Physical, Resolver, TemplateError, creation_order, references

TEMPLATE = {
    "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
    "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Environment": {"Variables": {"Q": {"Ref": "Queue"}}}},
            "DependsOn": "Role",
        },
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"DefinitionString": {"Fn::Sub": "${Fn.Arn} in ${AWS::Region}"}},
        },
    },
}


@pytest.fixture
def resolver() -> Resolver:
    r = Resolver(TEMPLATE, "Stack", region="eu-west-1", account="111122223333")
    r.resources["Queue"] = Physical("https://queue/url", {"Arn": "arn:aws:sqs:eu-west-1:111122223333:q"})
    r.resources["Fn"] = Physical("fn", {"Arn": "arn:aws:lambda:eu-west-1:111122223333:function:fn"})
    return r


def test_ref_getatt_join_sub_and_pseudo_parameters(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "Queue"}) == "https://queue/url"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:eu-west-1:111122223333:q"
    assert resolver.resolve({"Fn::GetAtt": "Fn.Arn"}).endswith(":function:fn")
    assert resolver.resolve({"Fn::Join": ["-", [{"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, "x"]]}) == (
        "eu-west-1-111122223333-x"
    )
    assert (
        resolver.resolve({"Fn::Sub": "arn:${AWS::Partition}:s3:::b-${AWS::URLSuffix}"})
        == "arn:aws:s3:::b-amazonaws.com"
    )
    assert resolver.resolve({"Fn::Sub": ["${A}/${Queue}", {"A": {"Ref": "Stage"}}]}) == "dev/https://queue/url"
    assert resolver.resolve({"Fn::Sub": "${!Literal}"}) == "${Literal}"


def test_select_split_if_and_no_value(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [":", "a:b:c"]}]}) == "b"
    assert resolver.resolve({"Fn::If": ["IsDev", "yes", "no"]}) == "yes"
    assert resolver.resolve({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}]}) == {"B": [1]}


def test_unknown_references_fail_loudly(resolver: Resolver) -> None:
    with pytest.raises(TemplateError, match="Role"):
        resolver.resolve({"Ref": "Role"})
    with pytest.raises(TemplateError, match=r"Queue\.QueueName"):
        resolver.resolve({"Fn::GetAtt": ["Queue", "QueueName"]})
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_creation_order_follows_references_and_depends_on() -> None:
    assert references(TEMPLATE["Resources"]["Machine"]["Properties"]) == {"Fn"}
    order = creation_order(TEMPLATE["Resources"], ["Machine", "Fn", "Queue", "Role"])
    assert order.index("Queue") < order.index("Fn") < order.index("Machine")
    assert order.index("Role") < order.index("Fn")
