"""The simulated world of the pacing benchmark (benchmarks/pacing.py): a clock, GMI's rate window, the submit
queue, and moto with the input images. Everything reads simulated time, so minutes pass in seconds."""

from __future__ import annotations

import bisect
import contextlib
import heapq
import io
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

POST_LATENCY_SECONDS = 0.4
VISIBILITY_TIMEOUT_SECONDS = 600
MAX_RECEIVES = 5
START = 1_800_000_000.0  # simulated epoch seconds (2027-01-15)
TABLE, INPUT_BUCKET, OUTPUT_BUCKET = "i2v-bench-jobs", "i2v-bench-input", "i2v-bench-output"
_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class SimClock:
    now: float = START

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class GmiRateWindow:
    """GMI's side, shared by every caller: 429 above `limit` accepted submissions in the trailing 60 s."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.accepted: list[float] = []  # sorted arrival times
        self.posts: list[tuple[float, int, str]] = []  # (arrival, status, image key)
        self._ids = itertools.count(1)

    def arrive(self, arrival: float, key: str) -> tuple[int, float, str]:
        """(status, retry_after, request id) for a submission arriving at `arrival`."""
        recent = len(self.accepted) - bisect.bisect_right(self.accepted, arrival - 60.0)
        recent -= len(self.accepted) - bisect.bisect_right(self.accepted, arrival)  # later arrivals do not count
        if recent >= self.limit:
            self.posts.append((arrival, 429, key))
            oldest = self.accepted[bisect.bisect_right(self.accepted, arrival - 60.0)]
            return 429, max(1.0, oldest + 60.0 - arrival), ""
        bisect.insort(self.accepted, arrival)
        self.posts.append((arrival, 200, key))
        return 200, 0.0, f"req-{next(self._ids)}"


class RateLimitedGmi:
    """One invocation's view of GMI (its own clock): POSTs take POST_LATENCY_SECONDS, half of it before arrival."""

    model = "pixverse-v5.5-i2v"

    def __init__(self, window: GmiRateWindow, clock: SimClock) -> None:
        self.window = window
        self.clock = clock

    def check_credentials(self) -> None:
        return None

    def submit(self, payload: dict[str, Any], model: str | None = None) -> Any:
        from i2v.domain.gmi_answers import GmiRequest, GmiRetryableError

        self.clock.sleep(POST_LATENCY_SECONDS / 2)
        key = urlsplit(payload["image_url"]).path.lstrip("/").removeprefix(f"{INPUT_BUCKET}/")
        status, retry_after, request_id = self.window.arrive(self.clock.now, key)
        self.clock.sleep(POST_LATENCY_SECONDS / 2)
        if status == 429:
            raise GmiRetryableError("GMI answered 429: rate limit", status_code=429, retry_after=retry_after)
        return GmiRequest(request_id=request_id, status="queued")

    def get(self, request_id: str) -> Any:  # pragma: no cover - the benchmark stops at submission
        raise NotImplementedError

    def list_requests(self, model_id: str, page: int = 1) -> Any:  # pragma: no cover - no reconciliation here
        from i2v.domain.gmi_answers import RequestPage

        return RequestPage([], 0)

    def price_info(self, model_id: str) -> dict[str, Any] | None:
        return None  # the pacing benchmark prices nothing


class Sink:
    """Event bus and workflow starter stand-ins: the benchmark ends at GMI's acceptance."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
        return None

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        self.started.append(name)
        return True


@dataclass(order=True)
class Message:
    visible_at: float
    seq: int
    body: dict[str, Any] = field(compare=False)
    receives: int = field(default=0, compare=False)


class SimQueue:
    """The submit queue on simulated time: delays, visibility timeout, the dead-letter queue."""

    def __init__(self) -> None:
        self._heap: list[Message] = []
        self._seq = itertools.count()
        self.dead: list[dict[str, Any]] = []
        self.sent_delayed = 0

    def sender(self, clock: SimClock) -> Sender:
        """The `requeue` port of one invocation: a fresh message, delayed from that invocation's now."""
        return Sender(self, clock)

    def put(self, body: dict[str, Any], visible_at: float) -> None:
        heapq.heappush(self._heap, Message(visible_at, next(self._seq), body))

    def next_visible(self) -> float | None:
        return self._heap[0].visible_at if self._heap else None

    def receive(self, now: float, count: int) -> list[Message]:
        batch: list[Message] = []
        while self._heap and self._heap[0].visible_at <= now and len(batch) < count:
            message = heapq.heappop(self._heap)
            message.receives += 1
            batch.append(message)
        return batch

    def fail(self, message: Message, now: float) -> None:
        if message.receives >= MAX_RECEIVES:
            self.dead.append(message.body)
            return
        message.visible_at = now + VISIBILITY_TIMEOUT_SECONDS
        heapq.heappush(self._heap, message)


@dataclass
class Sender:
    queue: SimQueue
    clock: SimClock

    def __call__(self, body: dict[str, Any], delay_seconds: int) -> None:
        self.queue.sent_delayed += 1
        self.queue.put(body, self.clock.now + delay_seconds)


@dataclass
class Invocation:
    """One of the `concurrency` submit Lambdas the event source mapping runs at once, with its own clock."""

    clock: SimClock
    service: Any
    batch: list[Message] = field(default_factory=list)
    deadline: float = 0.0


@contextlib.contextmanager
def moto() -> Iterator[None]:
    from moto import mock_aws

    from i2v.adapters.aws import reset_clients

    saved = {name: os.environ.get(name) for name in [*_ENV, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]}
    os.environ.update(_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_ENDPOINT_URL_S3", None)
    reset_clients()
    try:
        with mock_aws():
            yield
    finally:
        reset_clients()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def png(shade: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (shade % 256, 64, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def provision(uploads: int) -> list[Any]:
    import boto3

    from i2v.domain.source import SourceObject
    from i2v_local.jobs_table import create_jobs_table

    create_jobs_table(boto3.client("dynamodb"), TABLE)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=INPUT_BUCKET)
    s3.put_bucket_versioning(Bucket=INPUT_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    sources = []
    for n in range(uploads):
        key = f"incoming/burst/{n:04d}.png"
        put = s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=png(n), ContentType="image/png")
        sources.append(
            SourceObject(INPUT_BUCKET, key, put.get("VersionId"), put["ETag"].strip('"'), f"{n + 1:016X}", 100)
        )
    return sources
