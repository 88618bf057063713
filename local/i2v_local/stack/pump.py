"""The SQS event source mapping, done the way Lambda does it: moto's own ESM invokes synchronously inside
SendMessage and deletes or releases the whole batch, ignoring `batchItemFailures`.

Per batch: receive up to BatchSize messages, build a real-shaped SQS event, invoke the function, delete
the messages that succeeded and leave the rest to become visible again after the visibility timeout
(moto's SQS moves them to the DLQ after maxReceiveCount receives, as AWS does).

With `faults` (aws_faults.AwsFaults) the mapping misbehaves as AWS documents it may: a received message
throttled (not handed over; back after the visibility timeout, its receive count one higher), a message delivered
twice (in the same batch, or its delete withheld so it comes back later), a batch killed at the function's
timeout (no partial batch response; every message of the batch back once the function's timeout is over).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from i2v_local.stack.aws_faults import DUPLICATE, KILLED, THROTTLED, AwsFaults
from i2v_local.stack.lambdas import HandlerRouter
from i2v_local.stack.resources import EventSourceSpec

logger = logging.getLogger(__name__)

_UNBOUNDED = 1000  # Lambda's own scaling limit stands in for "no MaximumConcurrency"

# Attribute names Lambda puts in every SQS record.
_SYSTEM_ATTRIBUTES = ["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"]


@dataclass
class PumpStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0
    killed: int = 0
    throttled_receive_counts: list[int] = field(default_factory=list)  # ApproximateReceiveCount of each throttle
    errors: list[str] = field(default_factory=list)


class SqsPump:
    def __init__(
        self,
        source: EventSourceSpec,
        router: HandlerRouter,
        sqs: Any,
        region: str,
        visibility_timeout: int | None = None,
        parallel: bool = False,
        faults: AwsFaults | None = None,
    ) -> None:
        self.source = source
        self.router = router
        self.sqs = sqs
        self.region = region
        # None: the queue's own visibility timeout (600 s in the template). Tests shrink it to redeliver fast.
        self.visibility_timeout = visibility_timeout
        self.stats = PumpStats()
        self.faults = faults
        spec = router.find(source.function_name)
        self.channel = spec.logical_id if spec is not None else source.function_name
        self._duplicated: set[str] = set()  # message ids already given their second delivery
        self._withheld: set[str] = set()  # message ids whose delete is withheld once (a later duplicate)
        # Pollers running a batch at once: one (see HandlerRouter: one warm instance), or with `parallel`
        # as many as the mapping's MaximumConcurrency allows (unbounded without one, as in Lambda).
        slots = (source.max_concurrency or _UNBOUNDED) if parallel else 1
        self._slots = threading.BoundedSemaphore(slots)

    def pump(self, max_batches: int = 100) -> int:
        """Drain what is visible now, batch by batch; returns the number of messages handled."""
        handled = 0
        for _ in range(max_batches):
            count = self.poll_once(wait_seconds=0)
            if count == 0:
                break
            handled += count
        return handled

    def poll_once(self, wait_seconds: int = 0) -> int:
        with self._slots:
            request: dict[str, Any] = {
                "QueueUrl": self.source.queue_url,
                "MaxNumberOfMessages": min(10, self.source.batch_size),
                "WaitTimeSeconds": wait_seconds,
                "MessageSystemAttributeNames": _SYSTEM_ATTRIBUTES,
                "MessageAttributeNames": ["All"],
            }
            if self.visibility_timeout is not None:
                request["VisibilityTimeout"] = self.visibility_timeout
            messages = self.sqs.receive_message(**request).get("Messages", [])
            if not messages:
                return 0
            batch = self._misdelivered(messages) if self.faults is not None else messages
            if batch:
                self._handle(batch)
            return len(messages)

    def _misdelivered(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch the function gets: throttled messages left out, planned duplicates added or withheld."""
        assert self.faults is not None
        batch: list[dict[str, Any]] = []
        for message in messages:
            if self.faults.draw(THROTTLED, self.channel):
                # Not handed over, not deleted: back after the visibility timeout, its receive count one higher.
                self.faults.fire(THROTTLED)
                self.stats.throttled_receive_counts.append(int(message["Attributes"]["ApproximateReceiveCount"]))
                continue
            batch.append(message)
            message_id = message["MessageId"]
            if message_id in self._duplicated or not self.faults.draw(DUPLICATE, self.channel):
                continue
            self._duplicated.add(message_id)
            if self.faults.same_batch():
                batch.append({**message, "ReceiptHandle": message["ReceiptHandle"] + "-copy"})
                self.faults.fire(DUPLICATE)
            else:
                self._withheld.add(message_id)
        return batch

    def _handle(self, messages: list[dict[str, Any]]) -> None:
        self.stats.batches += 1
        self.stats.received += len(messages)
        event = self.event_for(messages)
        faults = self.faults
        started = time.monotonic()
        if faults is not None and faults.on(KILLED):
            kill_at = faults.kill_point(self.channel)
            result = self.router.invoke(self.source.function_name, event, kill_at_call=kill_at, enforce_timeout=True)
        else:  # the plain call: whoever replaces the router's invoke (tests) keeps its signature
            result = self.router.invoke(self.source.function_name, event)
        if result.killed:
            self._killed(messages, started)
            return
        failed_ids = self._failed_ids(result.payload, result.error, messages)
        done = _unique([m for m in messages if m["MessageId"] not in failed_ids])
        if self._withheld:
            kept = [m for m in done if m["MessageId"] in self._withheld]
            for message in kept:  # handled, not deleted: SQS delivers the copy again after the visibility timeout
                self._withheld.discard(message["MessageId"])
                if self.faults is not None:
                    self.faults.fire(DUPLICATE)
            done = [m for m in done if m not in kept]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self.stats.deleted += len(done)
        self.stats.failed += len(failed_ids)

    def _killed(self, messages: list[dict[str, Any]], started: float) -> None:
        """Lambda killed the invocation: nothing of the batch is deleted, and all of it comes back once the
        function's timeout is over (a queue's visibility timeout is at least the function's timeout)."""
        assert self.faults is not None
        self.faults.fire(KILLED)
        self.stats.killed += 1
        spec = self.router.find(self.source.function_name)
        left = (spec.timeout_seconds if spec is not None else 0) - (time.monotonic() - started)
        for message in _unique(messages):
            self._withheld.discard(message["MessageId"])
            self.sqs.change_message_visibility(
                QueueUrl=self.source.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=max(1, math.ceil(left)),
            )

    def _failed_ids(self, payload: Any, errored: bool, messages: list[dict[str, Any]]) -> set[str]:
        every = {m["MessageId"] for m in messages}
        if errored:
            # A function error fails the whole batch: every message comes back after the visibility timeout.
            self.stats.errors.append(str(payload.get("errorMessage") if isinstance(payload, dict) else payload))
            logger.warning("submit batch failed: %s", self.stats.errors[-1])
            return every
        if not self.source.report_batch_item_failures or not isinstance(payload, dict):
            return set()
        failures = payload.get("batchItemFailures") or []
        ids = {str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)}
        # Lambda treats an unknown or empty identifier as a failure of the whole batch.
        return every if ids - every or any(not i or i == "None" for i in ids) else ids

    def event_for(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda event of a batch of received messages (ReceiveMessage shape in, Lambda shape out)."""
        return {"Records": [self._record(m) for m in messages]}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": message.get("Attributes", {}),
            "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes") or {}),
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.source.queue_arn,
            "awsRegion": self.region,
        }


def _unique(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per message id, with the receipt handle SQS gave (a same-batch duplicate's is made up)."""
    first: dict[str, dict[str, Any]] = {}
    for message in messages:
        first.setdefault(message["MessageId"], message)
    return list(first.values())


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    # Lambda spells SQS message attributes in camelCase.
    return {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for name, value in attributes.items()
    }


class BackgroundPoller:
    """Long-polls the pumps on a daemon thread (the demo/CLI); tests call `pump()` instead."""

    def __init__(self, tick: Callable[[], object], interval: float = 0.5) -> None:
        self._tick = tick
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="i2v-local-poller", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                logger.exception("local poller tick failed")
            self._stop.wait(self._interval)
