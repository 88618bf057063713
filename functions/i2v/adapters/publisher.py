"""The one event publisher: PutEvents on the custom bus, retrying entries that the bus did not take."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from i2v.adapters.aws import client
from i2v.domain.jobs import FailureCategory, TransientError
from i2v.domain.redaction import redact


class EventPublisher:
    def __init__(
        self,
        bus_name: str,
        source: str,
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        self._attempts = attempts
        self._sleep = sleep

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
        # Redacting the serialized detail is belt and braces: details are built without secrets.
        entry = {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": detail_type,
            "Detail": redact(json.dumps(detail, default=str)),
            "Resources": resources or [],
        }
        last_error = ""
        for attempt in range(self._attempts):
            response = client("events").put_events(Entries=[entry])
            if not response.get("FailedEntryCount"):
                return
            failed = response["Entries"][0]
            last_error = f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
            self._sleep(min(2.0, 0.1 * 2**attempt))
        # The bus kept refusing the event: fail (and be retried) rather than lose it. TransientError by name,
        # because Step Functions matches error names: it retries the task (Complete and RecordFailure announce
        # again on a retry), and the submit queue redelivers the message.
        raise TransientError(
            f"EventBridge refused {detail_type!r} after {self._attempts} attempts ({last_error})",
            FailureCategory.INTERNAL,
        )
