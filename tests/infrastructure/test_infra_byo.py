"""Bring your own resources (issue 27): an existing input bucket, output bucket (and prefix), event bus and
customer managed KMS key, each a key of the one config model. For each: what the template creates, what it does
not, what our roles are granted (scoped); with all four set (examples/bring_your_own), cdk-nag and cfn-lint find
nothing (`make security` runs checkov over the same example)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("cdk")

EXAMPLE = Path(__file__).parents[2] / "examples" / "bring_your_own" / "app.py"

INPUT = "acme-images"
OUTPUT = "acme-media"
OUTPUT_PREFIX = "generated/i2v/"
BUS = "acme-central"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BYO_OVERRIDES: dict[str, Any] = {
    "input_bucket_name": INPUT,
    "output_bucket_name": OUTPUT,
    "output_prefix": OUTPUT_PREFIX,
    "event_bus_name": BUS,
    "kms_key_arn": KEY,
    "alarm_email": "ops@example.com",  # its delivery DLQ is one of the queues under the key
}


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _text(value: Any) -> str:
    """A resolved value as text: Refs and GetAtts by logical id, joins joined ('arn:<AWS::Partition>:s3:::b/p*')."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}>"
        if fn == "Fn::Join":
            return str(arg[0]).join(_text(part) for part in arg[1])
    return json.dumps(value)


def _role_grants(template: dict[str, Any], handler: str) -> set[tuple[str, str]]:
    """(action, resource) pairs of every policy attached to the role of the function with this handler."""
    resources = template["Resources"]
    (function,) = [r for r in resources.values() if r["Properties"].get("Handler") == handler]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    grants = set()
    for policy in _resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            grants |= {(a, _text(t)) for a in actions for t in targets}
    return grants


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_byo_app", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["example_byo_app"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def byo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """examples/bring_your_own as `cdk synth` builds it (bundled code, nag packs): all four resources brought."""
    from i2v_infra.nag import ACKNOWLEDGED
    from i2v_infra.synth import synthesize_app

    before = len(ACKNOWLEDGED)
    result = synthesize_app(tmp_path_factory.mktemp("cdk-byo"), _example().build)
    del ACKNOWLEDGED[before:]  # the record of acknowledgments is the pipeline app's (test_infra_compliance)
    return result


def _construct_template(**config: Any) -> dict[str, Any]:
    """One prop at a time: the construct in another app, with inline code (no bundling), as a template dict."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from i2v_infra.config import PipelineConfig
    from i2v_infra.constructs import ImageToVideoPipeline
    from i2v_infra.nag import ACKNOWLEDGED
    from i2v_infra.synth import load_cdk_context

    before = len(ACKNOWLEDGED)
    stack = cdk.Stack(cdk.App(context=load_cdk_context()), "TheirStack")
    ImageToVideoPipeline(
        stack,
        "I2v",
        config=PipelineConfig(stack_name="TheirStack", **config),
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    template = Template.from_stack(stack).to_json()
    del ACKNOWLEDGED[before:]
    return template  # type: ignore[no-any-return]


# ---- all four -----------------------------------------------------------------------------------------------


def test_the_example_brings_one_of_each() -> None:
    brought = {k: v for k, v in BYO_OVERRIDES.items() if k != "alarm_email"}
    assert brought == _example().THEIR_RESOURCES


def test_all_four_are_clean_under_cdk_nag_and_cfn_lint(byo: Any) -> None:
    from i2v_infra.cfn_lint import lint

    assert (byo.outdir / "validation-report.json").is_file(), "the nag packs did not run"
    assert byo.violations == [], "\n".join(f"{v['rule']} at {v['path']}: {v['description']}" for v in byo.violations)
    for name in byo.templates:
        assert lint(byo.outdir / name) == []


def test_all_four_create_none_of_what_was_brought(byo: Any) -> None:
    template = byo.template
    for kind in ("AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::Events::EventBus", "AWS::KMS::Key"):
        assert _resources(template, kind) == {}, kind
    # ours all the same: the table, the archive of our events on their bus, the schema registry
    assert len(_resources(template, "AWS::DynamoDB::Table")) == 1
    assert len(_resources(template, "AWS::Events::Archive")) == 1
    assert len(_resources(template, "AWS::EventSchemas::Registry")) == 1
    (submit,) = [
        r
        for r in _resources(template, "AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "i2v.handlers.submit.handler"
    ]
    env = submit["Properties"]["Environment"]["Variables"]
    assert (env["OUTPUT_BUCKET"], env["OUTPUT_PREFIX"], env["EVENT_BUS_NAME"]) == (OUTPUT, OUTPUT_PREFIX, BUS)


# ---- the input bucket ---------------------------------------------------------------------------------------


def test_existing_input_bucket_gets_only_notifications_and_read_grants() -> None:
    template = _construct_template(input_bucket_name=INPUT)
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 2  # the output bucket and the access-log bucket: no input bucket of ours
    assert not any("Input" in logical for logical in buckets)
    assert not any(
        _text(p["Properties"]["Bucket"]) == INPUT for p in _resources(template, "AWS::S3::BucketPolicy").values()
    ), "the existing bucket's policy is never written"
    (notifications,) = _resources(template, "Custom::S3BucketNotifications").values()
    props = notifications["Properties"]
    # Managed false: CDK's handler merges ours into the bucket's existing configuration instead of replacing it.
    assert props["BucketName"] == INPUT
    assert props["Managed"] is False
    filters = [
        {rule["Name"]: rule["Value"] for rule in q["Filter"]["Key"]["FilterRules"]}
        for q in props["NotificationConfiguration"]["QueueConfigurations"]
    ]
    assert {f["prefix"] for f in filters} == {"incoming/", "manifests/"}
    assert len(filters) == 10  # 8 image suffixes, .jsonl and .csv
    # The custom resource's handler may read and write that bucket's notification configuration, nothing else.
    (handler_policy,) = [p for k, p in _resources(template, "AWS::IAM::Policy").items() if "NotificationsHandler" in k]
    (statement,) = handler_policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["s3:GetBucketNotification", "s3:PutBucketNotification"]
    assert _text(statement["Resource"]) == f"arn:<AWS::Partition>:s3:::{INPUT}"
    # S3 may send to our submit queue for that bucket only (the queue's policy: ours, not the bucket's)
    (submit_queue_policy,) = [p for k, p in _resources(template, "AWS::SQS::QueuePolicy").items() if "Submit" in k]
    (from_s3,) = [
        st
        for st in submit_queue_policy["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Principal") == {"Service": "s3.amazonaws.com"}
    ]
    assert _text(from_s3["Condition"]["ArnLike"]["aws:SourceArn"]) == f"arn:<AWS::Partition>:s3:::{INPUT}"
    s3_grants = {g for g in _role_grants(template, "i2v.handlers.submit.handler") if g[0].startswith("s3:")}
    objects = {f"arn:<AWS::Partition>:s3:::{INPUT}/{p}*" for p in ("incoming/", "end-frames/", "manifests/")}
    assert s3_grants == {
        *{(action, arn) for action in ("s3:GetObject", "s3:GetObjectVersion") for arn in objects},
        ("s3:ListBucket", f"arn:<AWS::Partition>:s3:::{INPUT}"),  # S3 answers 404, not 403, for a deleted upload
    }


def test_input_bucket_given_twice_is_refused() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from i2v_infra.config import ConfigError, PipelineConfig
    from i2v_infra.constructs import ImageToVideoPipeline

    stack = cdk.Stack(cdk.App(), "TheirStack")
    theirs = s3.Bucket(stack, "Theirs", versioned=True)
    with pytest.raises(ConfigError, match=r"i2v\.input_bucket_name is set and the construct was given input_bucket="):
        ImageToVideoPipeline(stack, "I2v", config=PipelineConfig(input_bucket_name=INPUT), input_bucket=theirs)


# ---- the output bucket --------------------------------------------------------------------------------------


def test_existing_output_bucket_is_written_under_its_prefix_only() -> None:
    template = _construct_template(output_bucket_name=OUTPUT, output_prefix=OUTPUT_PREFIX)
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 2  # the input bucket and the access-log bucket
    assert not any("Output" in logical for logical in buckets)
    videos = f"arn:<AWS::Partition>:s3:::{OUTPUT}/{OUTPUT_PREFIX}*"
    complete = {g for g in _role_grants(template, "i2v.handlers.complete.handler") if g[0].startswith("s3:")}
    assert complete == {
        ("s3:PutObject", videos),
        ("s3:AbortMultipartUpload", videos),
        ("s3:GetObject", videos),
        ("s3:ListBucket", f"arn:<AWS::Partition>:s3:::{OUTPUT}"),  # HEAD of a missing video: 404, not 403
    }
    previews = {g for g in _role_grants(template, "i2v.handlers.previews.handler") if g[0].startswith("s3:")}
    assert previews == {("s3:GetObject", videos), ("s3:PutObject", videos)}  # posters and previews beside it
    for handler in ("submit", "poll", "watch", "fail", "sweeper"):
        grants = _role_grants(template, f"i2v.handlers.{handler}.handler")
        assert not any(OUTPUT in resource for _, resource in grants), handler
    (complete_fn,) = [
        r
        for r in _resources(template, "AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "i2v.handlers.complete.handler"
    ]
    env = complete_fn["Properties"]["Environment"]["Variables"]
    assert (env["OUTPUT_BUCKET"], env["OUTPUT_PREFIX"]) == (OUTPUT, OUTPUT_PREFIX)


def test_both_buckets_brought_create_no_access_log_bucket() -> None:
    template = _construct_template(input_bucket_name=INPUT, output_bucket_name=OUTPUT)
    assert _resources(template, "AWS::S3::Bucket") == {}


# ---- the event bus ------------------------------------------------------------------------------------------


def test_existing_bus_carries_our_events_archive_and_rules() -> None:
    template = _construct_template(event_bus_name=BUS)
    assert _resources(template, "AWS::Events::EventBus") == {}
    bus_arn = f"arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/{BUS}"
    (archive,) = _resources(template, "AWS::Events::Archive").values()
    assert _text(archive["Properties"]["SourceArn"]) == bus_arn
    assert archive["Properties"]["EventPattern"] == {"source": ["i2v.pipeline"]}  # only ours of a shared bus
    assert len(_resources(template, "AWS::EventSchemas::Schema")) == 5
    rules = _resources(template, "AWS::Events::Rule").values()
    on_bus = [r for r in rules if r["Properties"].get("EventBusName") == BUS]
    assert [r["Properties"]["EventPattern"]["detail-type"] for r in on_bus] == [["Video Generation Succeeded"]]
    for handler in ("submit", "complete", "fail", "sweeper", "previews"):
        puts = {r for a, r in _role_grants(template, f"i2v.handlers.{handler}.handler") if a == "events:PutEvents"}
        assert puts == {bus_arn}, handler
    for fn in _resources(template, "AWS::Lambda::Function").values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "EVENT_BUS_NAME" in env:
            assert env["EVENT_BUS_NAME"] == BUS


def test_subscribers_rules_listen_on_the_existing_bus() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs
    from aws_cdk.assertions import Template

    from i2v_infra.config import PipelineConfig
    from i2v_infra.constructs import ImageToVideoPipeline
    from i2v_infra.nag import ACKNOWLEDGED
    from i2v_infra.synth import load_cdk_context

    before = len(ACKNOWLEDGED)
    stack = cdk.Stack(cdk.App(context=load_cdk_context()), "TheirStack")
    pipeline = ImageToVideoPipeline(
        stack,
        "I2v",
        config=PipelineConfig(event_bus_name=BUS),
        code=lambda_.Code.from_inline("def handler(e, c):\n    return None\n"),
    )
    pipeline.on_video_failed(targets.SqsQueue(sqs.Queue(stack, "Failures")), statuses=["failed"])
    template = Template.from_stack(stack).to_json()
    del ACKNOWLEDGED[before:]
    failed = [
        r["Properties"]
        for r in _resources(template, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("detail-type") == ["Video Generation Failed"]
    ]
    assert [r["EventBusName"] for r in failed] == [BUS]


# ---- the customer managed key -------------------------------------------------------------------------------


def test_customer_key_encrypts_what_we_create_and_no_key_of_ours_is_made() -> None:
    template = _construct_template(kms_key_arn=KEY, alarm_email="ops@example.com")
    assert _resources(template, "AWS::KMS::Key") == {}
    (table,) = _resources(template, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["SSESpecification"] == {"KMSMasterKeyId": KEY, "SSEEnabled": True, "SSEType": "KMS"}
    queues = _resources(template, "AWS::SQS::Queue")
    assert len(queues) == 8  # submit, watch and their DLQs, failure, previews, sweeper and alarm e-mail DLQs
    for logical, queue in queues.items():
        assert queue["Properties"].get("KmsMasterKeyId") == KEY, logical
        assert "SqsManagedSseEnabled" not in queue["Properties"], logical
    (topic,) = _resources(template, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == KEY
    for logical, bucket in _resources(template, "AWS::S3::Bucket").items():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        if "AccessLogs" in logical:  # S3 server access logging delivers to SSE-S3 buckets only
            assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
            continue
        assert rule == {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"KMSMasterKeyID": KEY, "SSEAlgorithm": "aws:kms"},
        }, logical


def test_customer_key_grants_each_function_its_use_of_that_key_only() -> None:
    template = _construct_template(kms_key_arn=KEY)
    for handler in ("submit", "poll", "watch", "complete", "fail", "sweeper", "previews"):
        kms = {g for g in _role_grants(template, f"i2v.handlers.{handler}.handler") if g[0].startswith("kms:")}
        assert {r for _, r in kms} == {KEY}, handler
        assert {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"} <= {a for a, _ in kms}
    # and every other role that touches a queue under the key: the state machine's, the sweeper schedule's
    for policy in _resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("kms:") for a in actions):
                assert statement["Resource"] == KEY, statement


def test_customer_key_of_another_region_is_refused_when_the_stack_has_one() -> None:
    import aws_cdk as cdk

    from i2v_infra.config import ConfigError, PipelineConfig
    from i2v_infra.constructs import ImageToVideoPipeline
    from i2v_infra.synth import load_cdk_context

    app = cdk.App(context=load_cdk_context())
    stack = cdk.Stack(app, "TheirStack", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    with pytest.raises(ConfigError, match=r"i2v\.kms_key_arn: the key is in us-east-1, the stack in eu-west-1"):
        ImageToVideoPipeline(stack, "I2v", config=PipelineConfig(kms_key_arn=KEY))


def test_defaults_bring_nothing(template_dict: dict[str, Any]) -> None:
    assert len(_resources(template_dict, "AWS::Events::EventBus")) == 1
    assert len(_resources(template_dict, "AWS::S3::Bucket")) == 3
    (table,) = _resources(template_dict, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    for queue in _resources(template_dict, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    (notifications,) = _resources(template_dict, "Custom::S3BucketNotifications").values()
    assert notifications["Properties"]["Managed"] is True


# ---- the config keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"input_bucket_name": "arn:aws:s3:::acme"}, "i2v.input_bucket_name: 'arn:aws:s3:::acme' is not an S3 bucket"),
        ({"output_bucket_name": "Acme_Media"}, "i2v.output_bucket_name: 'Acme_Media' is not an S3 bucket name"),
        ({"output_bucket_name": "192.168.1.1"}, "i2v.output_bucket_name"),
        ({"event_bus_name": "arn:aws:events:us-east-1:111122223333:event-bus/x"}, "i2v.event_bus_name"),
        ({"kms_key_arn": "alias/acme"}, "i2v.kms_key_arn: 'alias/acme' is not a KMS key ARN"),
        ({"kms_key_arn": "1234abcd-12ab-34cd-56ef-1234567890ab"}, "i2v.kms_key_arn"),
        ({"kms_key_arn": KEY, "alarm_topic_cmk": True}, "set kms_key_arn or alarm_topic_cmk, not both"),
        (
            {"input_bucket_name": "media", "output_bucket_name": "media", "output_prefix": "incoming/videos/"},
            "input_prefix and output_prefix must not overlap",
        ),
    ],
)
def test_bad_values_name_the_key(overrides: dict[str, Any], message: str) -> None:
    from i2v_infra.config import ConfigError, PipelineConfig

    with pytest.raises(ConfigError) as caught:
        PipelineConfig.from_mapping(overrides)
    assert message in str(caught.value)


def test_good_values_are_kept() -> None:
    from i2v_infra.config import PipelineConfig

    mrk = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    config = PipelineConfig.from_mapping({**BYO_OVERRIDES, "kms_key_arn": mrk, "event_bus_name": "default"})
    assert (config.input_bucket_name, config.output_bucket_name, config.kms_key_arn) == (INPUT, OUTPUT, mrk)
    assert config.event_bus_name == "default"
