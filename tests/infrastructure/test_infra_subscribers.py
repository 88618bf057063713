"""What subscribers get from the stack: the schema registry, one-line rules, and webhook resources when set."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v_events.schemas import registry_schema
from i2v_events.v1 import DETAIL_KINDS

pytestmark = pytest.mark.xdist_group("cdk")

HOOKS = [
    {"name": "crm", "url": "https://hooks.example.com/i2v?token=abc"},
    {
        "name": "ops",
        "url": "https://ops.example.com/x",
        "events": ["failed", "preview_ready"],
        "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ops-hook-AbCdEf",
    },
]


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_registry_has_one_schema_per_detail_type(template_dict: dict[str, Any]) -> None:
    (registry,) = resources(template_dict, "AWS::EventSchemas::Registry")
    schemas = resources(template_dict, "AWS::EventSchemas::Schema").values()
    by_name = {s["Properties"]["SchemaName"]: s["Properties"] for s in schemas}
    # One per kind of the package's registry, named source@DetailTypeWithoutSpaces.
    kinds = {f"i2v.pipeline@{str(detail_type).replace(' ', '')}": kind for kind, detail_type in DETAIL_KINDS.items()}
    assert set(by_name) == set(kinds)
    assert {"i2v.pipeline@VideoGenerationSucceeded", "i2v.pipeline@VideoManifestCompleted"} <= set(by_name)
    for name, props in by_name.items():
        assert props["Type"] == "JSONSchemaDraft4"
        assert props["RegistryName"] == {"Fn::GetAtt": [registry, "RegistryName"]}
        kind = kinds[name]
        # Generated from the typed package's models, like schemas/events/v1 (tests/subscribers checks those).
        assert json.loads(props["Content"]) == registry_schema(kind, "i2v.pipeline")
        detail = json.loads(props["Content"])["properties"]["detail"]["properties"]
        # Issue 25: the job's price, additive in v1, in the two events of a job GMI accepted.
        priced = {"estimated_cost_usd", "price_source"} <= set(detail)
        assert priced == (kind in ("submitted", "succeeded")), kind
        if priced:
            assert detail["price_source"]["enum"] == ["setting", "gmi", "documented", "none"]
            assert detail["estimated_cost_usd"] == {
                "type": "number",
                "minimum": 0,
                "description": detail["estimated_cost_usd"]["description"],
            }


def test_no_webhook_resources_unless_configured(template_dict: dict[str, Any]) -> None:
    handlers = [f["Properties"]["Handler"] for f in resources(template_dict, "AWS::Lambda::Function").values()]
    assert "i2v.handlers.webhook.handler" not in handlers


@pytest.fixture(scope="module")
def webhook_synth(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from i2v_infra.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk-webhooks"), nag=True, config_overrides={"webhooks": HOOKS})


def test_webhooks_variant_is_clean(webhook_synth: Any) -> None:
    from i2v_infra.cfn_lint import lint

    assert webhook_synth.violations == []
    for name in webhook_synth.templates:
        assert lint(webhook_synth.outdir / name) == []


def test_webhooks_become_a_rule_each_to_the_signer_with_retries_and_a_dlq(webhook_synth: Any) -> None:
    template = webhook_synth.template
    (signer_id, signer) = next(
        (k, v)
        for k, v in resources(template, "AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == "i2v.handlers.webhook.handler"
    )
    (dlq,) = [k for k in resources(template, "AWS::SQS::Queue") if "Webhooks" in k]
    assert signer["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [dlq, "Arn"]}}
    rules = {
        json.loads(t["InputTransformer"]["InputTemplate"].replace("<aws.events.event.json>", "null"))["webhook"]: (
            rule["Properties"],
            t,
        )
        for rule in resources(template, "AWS::Events::Rule").values()
        for t in rule["Properties"].get("Targets", [])
        if t["Arn"] == {"Fn::GetAtt": [signer_id, "Arn"]}
    }
    assert set(rules) == {"crm", "ops"}
    crm, crm_target = rules["crm"]
    assert crm["EventPattern"]["detail-type"] == ["Video Generation Succeeded", "Video Generation Failed"]
    assert rules["ops"][0]["EventPattern"]["detail-type"] == ["Video Generation Failed", "Video Preview Ready"]
    assert crm_target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    assert crm_target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 8}
    assert "<aws.events.event.json>" in crm_target["InputTransformer"]["InputTemplate"]


def test_signing_secrets_stay_in_secrets_manager(webhook_synth: Any) -> None:
    template = webhook_synth.template
    created = [k for k in resources(template, "AWS::SecretsManager::Secret") if "Webhooks" in k]
    assert len(created) == 1  # crm's; ops brings its own
    assert not [
        s for s in resources(template, "AWS::SecretsManager::Secret").values() if "SecretString" in s["Properties"]
    ]
    signer_env = next(
        f["Properties"]["Environment"]["Variables"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "i2v.handlers.webhook.handler"
    )
    assert set(signer_env) == {
        "WEBHOOKS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_TRACE_DISABLED",
    }
    # Only the signer may read them.
    readers = [
        name
        for name, policy in resources(template, "AWS::IAM::Policy").items()
        if "secretsmanager:GetSecretValue" in json.dumps(policy)
        and ("ops-hook" in json.dumps(policy) or created[0] in json.dumps(policy))
    ]
    assert len(readers) == 1
    assert "WebhooksSigner" in readers[0]


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ({"name": "a", "url": "http://x.example.com/h"}, "must be an https:// URL"),
        ({"name": "a", "url": "https://user:pw@x.example.com/h"}, "must be an https:// URL"),
        ({"name": "a", "url": "https://x.example.com", "events": []}, "must list some of"),
        ({"name": "a", "url": "https://x.example.com", "events": ["done"]}, "webhooks.0.events.0"),
        ({"name": "A b", "url": "https://x.example.com"}, "webhooks.0.name"),
        ({"name": "a", "url": "https://x.example.com", "secret_arn": "my-secret"}, "must be a Secrets Manager"),
    ],
)
def test_bad_webhook_settings_name_the_key(hook: dict[str, Any], message: str) -> None:
    from i2v_infra.config import ConfigError, PipelineConfig

    with pytest.raises(ConfigError, match=message):
        PipelineConfig.from_mapping({"webhooks": [hook]})


def test_webhook_names_are_unique() -> None:
    from i2v_infra.config import ConfigError, PipelineConfig

    hook = {"name": "a", "url": "https://x.example.com"}
    with pytest.raises(ConfigError, match="unique"):
        PipelineConfig.from_mapping({"webhooks": [hook, hook]})


def test_on_video_ready_and_failed_wire_targets_in_one_line() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs
    from aws_cdk.assertions import Match, Template

    from i2v_infra.constructs import ImageToVideoPipeline
    from i2v_infra.nag import ACKNOWLEDGED
    from i2v_infra.synth import load_cdk_context

    before = len(ACKNOWLEDGED)
    stack = cdk.Stack(cdk.App(context=load_cdk_context()), "Consumer")
    pipeline = ImageToVideoPipeline(
        stack, "I2v", code=lambda_.Code.from_inline("def handler(e, c):\n    return None\n")
    )
    queue = sqs.Queue(stack, "Ready")
    ready = pipeline.on_video_ready(targets.SqsQueue(queue))
    pipeline.on_video_failed(targets.SqsQueue(queue), statuses=["failed", "timed_out"])
    assert ready.node.scope is pipeline
    assert pipeline.bus is pipeline.records.bus
    template = Template.from_stack(stack)
    del ACKNOWLEDGED[before:]  # the record of acknowledgments is the pipeline app's (test_infra_compliance)
    bus = {"Ref": stack.get_logical_id(pipeline.records.bus.node.default_child)}  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": bus,
            "EventPattern": {"source": ["i2v.pipeline"], "detail-type": ["Video Generation Succeeded"]},
            "Targets": Match.array_with([Match.object_like({"Arn": {"Fn::GetAtt": [Match.any_value(), "Arn"]}})]),
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": bus,
            "EventPattern": {
                "source": ["i2v.pipeline"],
                "detail-type": ["Video Generation Failed"],
                "detail": {"status": ["failed", "timed_out"]},
            },
        },
    )
    with pytest.raises(ValueError, match="statuses must be some of"):
        pipeline.on_video_failed(targets.SqsQueue(queue), statuses=["exploded"])
