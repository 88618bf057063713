"""Makes moto's S3 event notifications look like real S3's.

moto 5.2.5 (`moto.s3.notifications._get_s3_event`, private, pinned; checked by compat.py) leaves out
`versionId` and `sequencer` and encodes keys with quote_plus including "/" ("incoming%2Fa.png"),
while S3 keeps "/" ("incoming/a.png"). Our job ids depend on the version id (or ETag + sequencer) and
the "latest upload wins" rule on the sequencer, so without this a re-upload of the same bytes would be
a duplicate locally but a new job on AWS.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote_plus

from moto.s3 import notifications

_MOTO_GET_S3_EVENT: Callable[..., dict[str, Any]] = notifications._get_s3_event

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def next_sequencer() -> str:
    """Hex, increasing within the process (S3's are per key; increasing overall is a valid instance)."""
    with _counter_lock:
        return f"{time.time_ns() // 1000:014X}{next(_counter) % 0x10000:04X}"


def s3_key_encoding(key: str) -> str:
    """S3's notification encoding: URL-encoded, space as "+", "/" kept."""
    return quote_plus(key, safe="/")


def _realistic_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    event = _MOTO_GET_S3_EVENT(event_name, bucket, key, notification_id)
    for record in event.get("Records", []):
        s3_object = record["s3"]["object"]
        s3_object["key"] = s3_key_encoding(key.name)
        s3_object["sequencer"] = next_sequencer()
        version_id = getattr(key, "version_id", None)
        if getattr(bucket, "is_versioned", False) and version_id and version_id != "null":
            s3_object["versionId"] = version_id
    return event


@contextmanager
def realistic_s3_events() -> Iterator[None]:
    notifications._get_s3_event = _realistic_event
    try:
        yield
    finally:
        notifications._get_s3_event = _MOTO_GET_S3_EVENT
