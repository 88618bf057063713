"""Creates the template's resources in moto with plain boto3 calls, in dependency order.

moto's own CloudFormation support cannot deploy the CDK template (the state machine fails), so each
supported type has a small creator here. Types without a creator (policies, log groups, alarms,
dashboards, KMS, SNS, the CDK custom-resource Lambda...) are skipped: they change nothing the
pipeline's code can observe locally.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from i2v_local.stack.template import Physical, Resolver, TemplateError, creation_order

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]
OUR_HANDLER_PREFIX = "i2v.handlers."
STATUS_CHANGE = "Step Functions Execution Status Change"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class EventSourceSpec:
    """An SQS event source mapping, run by the local pump (moto's own is synchronous and all-or-nothing)."""

    function_name: str
    queue_url: str
    queue_arn: str
    batch_size: int
    max_concurrency: int | None
    report_batch_item_failures: bool


@dataclass(frozen=True)
class LambdaTarget:
    function_arn: str
    dead_letter_arn: str | None
    input_transformer: dict[str, Any] | None = None


@dataclass(frozen=True)
class LambdaRuleSpec:
    """A rule whose Lambda targets moto cannot deliver to (moto raises NotImplementedError for them)."""

    name: str
    event_bus_name: str
    pattern: dict[str, Any]
    targets: tuple[LambdaTarget, ...]


@dataclass
class Provisioned:
    """What the local stack created, for the router, the pump and the tests."""

    physical: dict[str, Physical] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by function name
    event_sources: list[EventSourceSpec] = field(default_factory=list)
    lambda_rules: list[LambdaRuleSpec] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> type


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "code runs in-process in the local stack\n")
    return buffer.getvalue()


class Provisioner:
    def __init__(
        self,
        template: Mapping[str, Any],
        resolver: Resolver,
        clients: ClientFactory,
        environment_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.resolver = resolver
        self.clients = clients
        self.overrides = dict(environment_overrides or {})
        self.suffix = secrets.token_hex(4)
        self.result = Provisioned(physical=resolver.resources)
        self._creators: dict[str, Callable[[str, dict[str, Any]], Physical | None]] = {
            "AWS::IAM::Role": self._role,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SQS::Queue": self._queue,
            "AWS::DynamoDB::Table": self._table,
            "AWS::Events::EventBus": self._bus,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Lambda::Function": self._function,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Events::Rule": self._rule,
            "Custom::S3BucketNotifications": self._notifications,
            "AWS::Lambda::EventSourceMapping": self._event_source,
        }

    # ---- driver -------------------------------------------------------------------------------------------
    def provision(self, secret_value: str) -> Provisioned:
        self._secret_value = secret_value
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        wanted = [k for k, r in resources.items() if r["Type"] in self._creators and self._wanted(r)]
        self.result.skipped = {k: r["Type"] for k, r in resources.items() if k not in wanted}
        for logical in creation_order(resources, wanted):
            resource = resources[logical]
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                continue
            physical = self._creators[resource["Type"]](logical, resource.get("Properties") or {})
            if physical is not None:
                self.resolver.resources[logical] = physical
        for key, output in (self.template.get("Outputs") or {}).items():
            try:
                self.result.outputs[key] = self.resolver.resolve_str(output["Value"])
            except TemplateError:
                logger.debug("output %s refers to a resource the local stack skips", key)
        return self.result

    @staticmethod
    def _wanted(resource: Mapping[str, Any]) -> bool:
        # Only our own functions run locally; the CDK's custom-resource handlers are replaced by creators.
        if resource["Type"] == "AWS::Lambda::Function":
            handler = (resource.get("Properties") or {}).get("Handler", "")
            return isinstance(handler, str) and handler.startswith(OUR_HANDLER_PREFIX)
        return True

    def _name(self, logical: str, limit: int, lower: bool = False) -> str:
        stack = self.resolver.stack_name
        head = f"{stack}-{logical}"[: limit - len(self.suffix) - 1]
        name = f"{head}-{self.suffix}"
        return name.lower() if lower else name

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.resolver.region}:{self.resolver.account}:{resource}"

    # ---- creators -----------------------------------------------------------------------------------------
    def _role(self, logical: str, props: dict[str, Any]) -> Physical:
        name = props.get("RoleName") or self._name(logical, 64)
        trust = json.dumps(props.get("AssumeRolePolicyDocument") or {})
        role = self.clients("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
        return Physical(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _bucket(self, logical: str, props: dict[str, Any]) -> Physical:
        name = (
            self.resolver.resolve_str(props["BucketName"]) if "BucketName" in props else self._name(logical, 63, True)
        )
        s3 = self.clients("s3")
        if self.resolver.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.resolver.region})
        status = (props.get("VersioningConfiguration") or {}).get("Status")
        if status:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        domain = f"{name}.s3.amazonaws.com"
        return Physical(
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": domain,
                "RegionalDomainName": f"{name}.s3.{self.resolver.region}.amazonaws.com",
            },
        )

    def _queue(self, logical: str, props: dict[str, Any]) -> Physical:
        name = self.resolver.resolve_str(props["QueueName"]) if "QueueName" in props else self._name(logical, 80)
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
            if key in props:
                attributes[key] = str(self.resolver.resolve(props[key]))
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(self.resolver.resolve(props["RedrivePolicy"]))
        if props.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
        url = self.clients("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return Physical(url, {"Arn": self._arn("sqs", name), "QueueName": name, "QueueUrl": url})

    def _table(self, logical: str, props: dict[str, Any]) -> Physical:
        name = self.resolver.resolve_str(props["TableName"]) if "TableName" in props else self._name(logical, 255)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        dynamodb = self.clients("dynamodb")
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return Physical(name, attributes)

    def _bus(self, logical: str, props: dict[str, Any]) -> Physical:
        name = self.resolver.resolve_str(props["Name"])
        arn = self.clients("events").create_event_bus(Name=name)["EventBusArn"]
        return Physical(name, {"Arn": arn, "Name": name})

    def _secret(self, logical: str, props: dict[str, Any]) -> Physical:
        name = self.resolver.resolve_str(props["Name"]) if "Name" in props else self._name(logical, 256)
        # The template generates a placeholder; locally the value is the simulator's key, set up front.
        arn = self.clients("secretsmanager").create_secret(Name=name, SecretString=self._secret_value)["ARN"]
        return Physical(arn, {"Id": arn})

    def _function(self, logical: str, props: dict[str, Any]) -> Physical:
        name = self.resolver.resolve_str(props["FunctionName"]) if "FunctionName" in props else self._name(logical, 64)
        variables = self.resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
        environment = {k: str(v) for k, v in variables.items()} | {
            k: v for k, v in self.overrides.items() if k in variables
        }
        timeout, memory = int(props.get("Timeout", 3)), int(props.get("MemorySize", 128))
        function = self.clients("lambda").create_function(
            FunctionName=name,
            Runtime=props.get("Runtime", "python3.12"),
            Role=self.resolver.resolve_str(props["Role"]),
            Handler=props["Handler"],
            Code={"ZipFile": _dummy_zip()},
            Description=str(props.get("Description", ""))[:256],
            Timeout=timeout,
            MemorySize=memory,
            Environment={"Variables": environment},
        )
        arn = function["FunctionArn"]
        self.result.functions[name] = FunctionSpec(logical, name, arn, props["Handler"], environment, timeout, memory)
        return Physical(name, {"Arn": arn})

    def _state_machine(self, logical: str, props: dict[str, Any]) -> Physical:
        name = (
            self.resolver.resolve_str(props["StateMachineName"])
            if "StateMachineName" in props
            else self._name(logical, 80)
        )
        if "DefinitionString" in props:
            definition = self.resolver.resolve_str(props["DefinitionString"])
        else:
            definition = json.dumps(self.resolver.resolve(props["Definition"]))
        substitutions = self.resolver.resolve(props.get("DefinitionSubstitutions") or {})
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", str(value))
        arn = self.clients("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=self.resolver.resolve_str(props["RoleArn"]),
            type=props.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        return Physical(arn, {"Arn": arn, "Name": name})

    def _rule(self, logical: str, props: dict[str, Any]) -> Physical:
        name = self.resolver.resolve_str(props["Name"]) if "Name" in props else self._name(logical, 64)
        bus = self.resolver.resolve_str(props.get("EventBusName", "default"))
        request: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        pattern = self.resolver.resolve(props.get("EventPattern")) if "EventPattern" in props else None
        if pattern is not None:
            request["EventPattern"] = json.dumps(pattern)
        if "ScheduleExpression" in props:
            request["ScheduleExpression"] = props["ScheduleExpression"]
        events = self.clients("events")
        arn = events.put_rule(**request)["RuleArn"]
        targets = [self.resolver.resolve(t) for t in props.get("Targets") or []]
        lambda_targets = tuple(
            LambdaTarget(t["Arn"], (t.get("DeadLetterConfig") or {}).get("Arn"), t.get("InputTransformer"))
            for t in targets
            if ":lambda:" in t["Arn"]
        )
        delivered = [_target_request(t) for t in targets if ":lambda:" not in t["Arn"]]
        if delivered:
            events.put_targets(Rule=name, EventBusName=bus, Targets=delivered)
        if lambda_targets and pattern is not None:
            self.result.lambda_rules.append(LambdaRuleSpec(name, bus, pattern, lambda_targets))
        return Physical(name, {"Arn": arn})

    def _notifications(self, logical: str, props: dict[str, Any]) -> Physical:
        bucket = self.resolver.resolve_str(props["BucketName"])
        configuration = self.resolver.resolve(props.get("NotificationConfiguration") or {})
        # moto delivers queue and EventBridge notifications itself; Lambda ones would need Docker.
        if configuration.get("LambdaFunctionConfigurations"):
            raise TemplateError("S3 notifications to Lambda are not supported by the local stack")
        self.clients("s3").put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration, SkipDestinationValidation=True
        )
        return Physical(f"{bucket}-notifications")

    def _event_source(self, logical: str, props: dict[str, Any]) -> Physical:
        source_arn = self.resolver.resolve_str(props["EventSourceArn"])
        if ":sqs:" not in source_arn:
            raise TemplateError(f"event source {source_arn} is not SQS; the local stack only pumps SQS")
        queue = next(p for p in self.resolver.resources.values() if p.attributes.get("Arn") == source_arn)
        function_name = self.resolver.resolve_str(props["FunctionName"]).rsplit(":", 1)[-1]
        spec = EventSourceSpec(
            function_name=function_name,
            queue_url=queue.ref,
            queue_arn=source_arn,
            batch_size=int(props.get("BatchSize", 10)),
            max_concurrency=(props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        )
        self.result.event_sources.append(spec)
        return Physical(f"esm-{logical}")


def _target_request(target: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "SqsParameters", "DeadLetterConfig")
    return {k: target[k] for k in keys if k in target}
