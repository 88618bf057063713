"""Signed webhooks: per configured receiver, a rule on the bus -> the signer Lambda -> HTTPS POST.

Why a Lambda and not an EventBridge API destination: an API destination can add static or event-path headers
but cannot compute an HMAC over the body it sends, which Standard Webhooks' `webhook-signature` is.

Retries: EventBridge retries invoking the signer (then the rule target's DLQ); a delivery that fails (non-2xx,
timeout) fails the asynchronous invocation, which Lambda retries twice and then sends to the same DLQ.
The signing secret stays in Secrets Manager; only the signer may read it.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from i2v_events.v1 import DETAIL_KINDS
from i2v_infra.config import PipelineConfig
from i2v_infra.constructs.functions import PipelineFunction, tracing_environment
from i2v_infra.constructs.keys import customer_key
from i2v_infra.constructs.queues import dead_letter_queue
from i2v_infra.nag import acknowledge
from i2v_infra.webhook_config import WebhookConfig

HANDLER = "i2v.handlers.webhook.handler"
DELIVERY_TIMEOUT = Duration.seconds(30)


class _WithWebhookName(events.RuleTargetInput):
    """Target input `{"webhook": NAME, "event": <the whole event>}` (`aws.events.event.json` is the full event)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._template = '{"webhook": "%s", "event": <aws.events.event.json>}' % name  # noqa: UP031 - JSON braces

    def bind(self, _rule: events_refs.IRuleRef) -> events.RuleTargetInputProperties:
        return events.RuleTargetInputProperties(input_template=self._template)


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        bus: events.IEventBus,
        code: lambda_.Code,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(self, key=customer_key(self, config))
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: webhook deliveries that failed after every retry (the rule "
            "targets' DLQ and the signer function's DLQ). It holds event payloads only, never a secret.",
        )
        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This queue is itself a dead-letter queue (see AwsSolutions-SQS3 above); it has no DLQ of its own.",
        )
        self.secrets: dict[str, secretsmanager.ISecret] = {hook.name: self._secret(hook) for hook in config.webhooks}
        receivers = {
            hook.name: {"url": hook.url, "secret_arn": self.secrets[hook.name].secret_arn} for hook in config.webhooks
        }
        self.signer = PipelineFunction(
            self,
            "Signer",
            code=code,
            handler=HANDLER,
            description="i2v webhooks: sign pipeline events (Standard Webhooks) and POST them to receivers",
            memory_size=256,
            timeout=DELIVERY_TIMEOUT,
            environment={
                "WEBHOOKS": Stack.of(self).to_json_string(receivers),
                "POWERTOOLS_SERVICE_NAME": "i2v",
                "POWERTOOLS_METRICS_NAMESPACE": "ImageToVideo",
                **tracing_environment(config),
            },
            log_retention=log_retention,
            dead_letter_queue=self.dead_letter_queue,  # deliveries that failed after Lambda's 2 async retries
        )
        for secret in self.secrets.values():
            secret.grant_read(self.signer.function)
        self.rules = [self._rule(config.event_source, bus, hook) for hook in config.webhooks]

    def _secret(self, hook: WebhookConfig) -> secretsmanager.ISecret:
        if hook.secret_arn:
            return secretsmanager.Secret.from_secret_complete_arn(self, f"Secret-{hook.name}", hook.secret_arn)
        # 32 letters and digits are valid base64 of 24 random bytes: receivers use "whsec_" + the value.
        secret = secretsmanager.Secret(
            self,
            f"Secret-{hook.name}",
            description=f"i2v webhook '{hook.name}' signing secret (receivers verify with whsec_<value>)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "A webhook signing secret is shared with the receiver out of band; rotating it needs the receiver to "
            "accept the new one first, so it is rotated by the operator (put-secret-value), not by a Lambda.",
        )
        return secret

    def _rule(self, source: str, bus: events.IEventBus, hook: WebhookConfig) -> events.Rule:
        return events.Rule(
            self,
            f"Rule-{hook.name}",
            description=f"i2v webhook '{hook.name}': {', '.join(hook.events)} events -> signer",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[source], detail_type=[str(DETAIL_KINDS[kind]) for kind in hook.events]
            ),
            targets=[
                targets.LambdaFunction(
                    self.signer.function,
                    event=_WithWebhookName(hook.name),
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=8,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
