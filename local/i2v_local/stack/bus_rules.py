"""Rules on the pipeline's own bus whose targets are Lambda functions (the webhook signer).

moto's EventBridge cannot invoke Lambda targets, so each such rule gets an SQS queue with the same pattern, and
`pump()` does what EventBridge and Lambda's asynchronous invoke do: apply the target's input transformer, invoke
the function (in-process), retry a failed invocation twice, then send the event to the target's dead-letter
queue. With `faults` (aws_faults) an event may be delivered twice: EventBridge and Lambda's asynchronous invoke
both deliver at least once.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from i2v_local.stack.aws_faults import DUPLICATE, WEBHOOKS, AwsFaults
from i2v_local.stack.lambdas import HandlerRouter
from i2v_local.stack.resources import LambdaRuleSpec, LambdaTarget
from i2v_local.stack.template import DEFAULT_ACCOUNT, TemplateError

logger = logging.getLogger(__name__)

ASYNC_RETRIES = 2  # Lambda's default for asynchronous invocations (the construct keeps it)
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
_SIMPLE_PATH = re.compile(r"^\$(\.[A-Za-z0-9_-]+)*$")


def transform(target: LambdaTarget, event: dict[str, Any], rule_name: str) -> Any:
    """The target's input: the event itself, or its input transformer applied (the subset the template uses)."""
    if not target.input_transformer:
        return event
    paths = target.input_transformer.get("InputPathsMap") or {}
    values: dict[str, Any] = {
        "aws.events.event.json": event,
        "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
        "aws.events.rule-name": rule_name,
    }
    for name, path in paths.items():
        if not _SIMPLE_PATH.fullmatch(path):
            raise TemplateError(f"input path {path!r} is beyond what the local stack transforms")
        value: Any = event
        for part in path.split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        values[name] = value
    text = _PLACEHOLDER.sub(lambda m: json.dumps(values[m.group(1)]), target.input_transformer["InputTemplate"])
    return json.loads(text)


@dataclass
class _Route:
    rule: LambdaRuleSpec
    queue_url: str


class BusLambdaRules:
    def __init__(
        self,
        rules: list[LambdaRuleSpec],
        router: HandlerRouter,
        clients: Callable[[str], Any],
        faults: AwsFaults | None = None,
    ) -> None:
        self.router = router
        self.faults = faults
        self.clients = clients
        self.delivered: list[tuple[str, Any]] = []  # (function arn, input) of every successful invocation
        self._routes: list[_Route] = []
        sqs, events = clients("sqs"), clients("events")
        for rule in rules:
            if rule.event_bus_name in ("default", ""):
                continue  # the execution watcher delivers the default bus's rules
            name = f"i2v-local-rule-{secrets.token_hex(4)}"
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_targets(Rule=rule.name, EventBusName=rule.event_bus_name, Targets=[{"Id": name, "Arn": arn}])
            self._routes.append(_Route(rule, url))

    def queued(self) -> int:
        sqs = self.clients("sqs")
        return sum(
            int(
                sqs.get_queue_attributes(QueueUrl=route.queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
                    "Attributes"
                ]["ApproximateNumberOfMessages"]
            )
            for route in self._routes
        )

    def pump(self) -> int:
        sqs, handled = self.clients("sqs"), 0
        for route in self._routes:
            while messages := sqs.receive_message(QueueUrl=route.queue_url, MaxNumberOfMessages=10).get("Messages"):
                for message in messages:
                    # moto's delivery omits `account`, which EventBridge always sends.
                    event = {"account": DEFAULT_ACCOUNT, **json.loads(message["Body"])}
                    twice = self.faults is not None and self.faults.draw(DUPLICATE, WEBHOOKS)
                    for target in route.rule.targets:
                        for _copy in range(2 if twice else 1):
                            self._invoke(target, transform(target, event, route.rule.name))
                    if twice and self.faults is not None:
                        self.faults.fire(DUPLICATE)
                    sqs.delete_message(QueueUrl=route.queue_url, ReceiptHandle=message["ReceiptHandle"])
                    handled += 1
        return handled

    def _invoke(self, target: LambdaTarget, payload: Any) -> None:
        for _attempt in range(1 + ASYNC_RETRIES):
            result = self.router.invoke(target.function_arn, payload)
            if not result.error:
                self.delivered.append((target.function_arn, payload))
                return
        logger.warning(
            "asynchronous invocation failed %d times; event sent to the dead-letter queue", 1 + ASYNC_RETRIES
        )
        if target.dead_letter_arn:
            sqs = self.clients("sqs")
            url = sqs.get_queue_url(QueueName=target.dead_letter_arn.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(payload))
