"""The ports: what the services need from the outside world, as Protocols.

The adapters (i2v.adapters.*) implement them against AWS and GMI; tests/support/fakes.py implements them in
memory, so every service branch can be tested in milliseconds. What the ports exchange (data and error types)
lives in i2v.domain, so the services import nothing of the adapters (tests/unit/test_code_shape.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from i2v.domain.budgets import SpendReservation
from i2v.domain.claims import ClaimResult, WatchLookClaim
from i2v.domain.downloads import VIDEO_CONTENT_TYPES, Download
from i2v.domain.gmi_answers import GmiRequest, RequestPage
from i2v.domain.jobs import JobStatus
from i2v.domain.manifest import BadLine, ManifestRef, ManifestSummary
from i2v.domain.objects import ObjectInfo, Readable
from i2v.domain.pacing import Reservation
from i2v.domain.record import JobRecord
from i2v.domain.rendering import RenderedPreviews
from i2v.domain.sweep import Execution
from i2v.domain.workflow import WatchMessage

T = TypeVar("T")


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class SpendMetricsPort(Protocol):
    """The day's spend of one budget (ALL or a prefix) as a metric with that budget as a dimension."""

    def daily_spend(self, budget: str, total_usd: float) -> None: ...


class NoSpendMetrics:
    def daily_spend(self, budget: str, total_usd: float) -> None:
        return None


class Requeue(Protocol):
    def __call__(self, body: dict[str, Any], delay_seconds: int) -> None: ...


class NullMetrics:
    def add_metric(self, name: str, unit: Any, value: float) -> None:
        return None


class JobRepositoryPort(Protocol):
    """The jobs table. `transition` raises TransitionRejectedError when the job's status may not lead there;
    `claim_look` is False for a stale copy of a watch look."""

    def claim(self, job: JobRecord, padded_sequencer: str) -> ClaimResult: ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def transition(
        self,
        job_id: str,
        target: JobStatus,
        fields: dict[str, Any] | None = None,
        remove: Iterable[str] = (),
        increment_attempt: bool = False,
    ) -> JobRecord: ...

    def annotate(self, job_id: str, fields: dict[str, Any]) -> None: ...

    def claim_look(self, job_id: str, look: WatchLookClaim) -> bool: ...

    def release_look(self, job_id: str, look: WatchLookClaim) -> None: ...

    def finish_look(self, job_id: str, look: WatchLookClaim) -> None: ...

    def consume_budget(self, day: str, cap: int, expires_at: int) -> bool: ...

    def release_budget(self, day: str) -> None: ...

    # Daily dollar budgets (i2v.services.budget): the day's totals per budget (ALL or a prefix).
    def reserve_spend(
        self, day: str, usd: Decimal, limits: Mapping[str, Decimal], expires_at: int
    ) -> dict[str, Decimal] | None: ...

    def spent(self, day: str) -> dict[str, Decimal]: ...

    def release_spend(self, reservation: SpendReservation, job_id: str | None = None) -> bool: ...

    def recent_generation_seconds(self, model: str, time_class: Mapping[str, str] | None) -> list[float]: ...


class GmiPort(Protocol):
    """GMI's request queue. Raises GmiPermanentError, GmiRetryableError or (POST only) GmiAmbiguousError."""

    @property
    def model(self) -> str: ...

    def check_credentials(self) -> None: ...

    def submit(self, payload: dict[str, Any], model: str | None = None) -> GmiRequest: ...

    def get(self, request_id: str) -> GmiRequest: ...

    def list_requests(self, model_id: str, page: int = 1) -> RequestPage: ...

    def price_info(self, model_id: str) -> dict[str, Any] | None: ...


class PublisherPort(Protocol):
    """The event bus; raises TransientError when the bus keeps refusing the event."""

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None: ...


class ImageStoragePort(Protocol):
    """The uploaded source images (read only)."""

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo | None: ...

    def is_deleted(self, bucket: str, key: str) -> bool: ...

    def first_bytes(self, bucket: str, key: str, version_id: str | None, count: int) -> bytes: ...

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, count: int) -> bytes: ...

    def presign_get(self, bucket: str, key: str, version_id: str | None, ttl_seconds: int) -> str: ...


class VideoStoragePort(Protocol):
    """Where finished videos are streamed to."""

    def upload(self, stream: Readable, bucket: str, key: str, content_type: str, metadata: dict[str, str]) -> None: ...


class SeekableReader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...

    def close(self) -> None: ...


class StoredVideoPort(Protocol):
    """A stored video, opened as a seekable file whose reads fetch only the bytes asked for."""

    def open(self, bucket: str, key: str) -> SeekableReader: ...


class VideoSourcePort(Protocol):
    """GMI's video or thumbnail URL, opened only if every hop passes the SSRF checks (https, allowed host, public
    address); raises VideoUrlRejectedError, VideoGoneError or DownloadInterruptedError (i2v.domain.downloads)."""

    def open(self, url: str, timeout: float, content_types: tuple[str, ...] = VIDEO_CONTENT_TYPES) -> Download: ...


class PreviewRendererPort(Protocol):
    """Poster and animated preview of a stored video; raises UndecodableVideoError (i2v.domain.rendering)."""

    def __call__(self, video: SeekableReader, /) -> RenderedPreviews: ...


class WorkflowPort(Protocol):
    """Starts the polling workflow; False when an execution of that name already exists."""

    def start(self, name: str, execution_input: dict[str, Any]) -> bool: ...


class WatchQueuePort(Protocol):
    """The watch queue: a job's next look, delivered to the watch function after `delay_seconds` (<= 900)."""

    def send(self, message: WatchMessage, delay_seconds: int) -> None: ...


class TaskTokenPort(Protocol):
    """The Watch state's task token. Both calls answer False when the task is closed (answered, timed out, or
    its execution ended): the look that holds it is a stale copy and stops."""

    def heartbeat(self, token: str) -> bool: ...

    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...


class SubmitBreakerPort(Protocol):
    """The circuit breaker in front of GMI submissions: `call` raises CircuitOpenError (nothing sent) while
    GMI keeps refusing; `is_open` is the cheap look before a job takes a turn or a budget slot."""

    def is_open(self) -> bool: ...

    def call(self, submit: Callable[[], T]) -> T: ...


class SubmitPacePort(Protocol):
    """The submission pace shared by every submit invocation: the next free turn to POST."""

    def take_turn(self, now: float, rate_per_minute: int) -> Reservation: ...


class StaleJobsPort(Protocol):
    """The jobs of one status whose record last changed before `updated_before` (ISO-8601), oldest first, read
    page by page as the caller goes (the by-status index of the one job repository)."""

    def stale(self, status: JobStatus, updated_before: str) -> Iterable[JobRecord]: ...


class ExecutionsPort(Protocol):
    """The workflow's executions by name: what DescribeExecution says, None when none of that name exists."""

    def describe(self, name: str) -> Execution | None: ...


class MessageBatchPort(Protocol):
    """The submit queue, many messages at once (a manifest's lines): sent in SQS batches of 10."""

    def send_batch(self, bodies: list[dict[str, Any]]) -> None: ...


class ManifestSummaryPort(Protocol):
    """Per-manifest summary records (i2v.domain.manifest). `record_chunk` is conditional on the chunk being the
    next one (False: another delivery recorded it first); `add_bad_line` and `end_line` are idempotent per line
    number (`end_line`: True when this end was new); `mark_completed` sets `completed_at` once (True then)."""

    def get(self, manifest_id: str) -> ManifestSummary | None: ...

    def record_chunk(
        self,
        manifest: ManifestRef,
        offset: int,
        next_offset: int,
        next_line: int,
        lines: int,
        bad: list[BadLine],
        bad_total: int,
        done: bool,
    ) -> bool: ...

    def add_bad_line(self, manifest_id: str, bad: BadLine) -> None: ...

    def end_line(self, manifest_id: str, line: int, outcome: str) -> bool: ...

    def mark_completed(self, manifest_id: str) -> bool: ...

    def mark_announced(self, manifest_id: str) -> None: ...
