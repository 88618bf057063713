"""In-memory fakes of the service ports (i2v.services.ports), for service tests that run in milliseconds.

    from support.fakes import Fakes
    fakes = Fakes()
    service = SubmitService(options=..., **fakes.submit_ports())

They keep the promises the ports make (the repository enforces domain/jobs.py's TRANSITIONS and raises
TransitionRejectedError like DynamoDB's condition would), and record what the service did, so tests can
assert on records, events, starts and metrics. The moto and simulator scenarios check the real adapters.
"""

from __future__ import annotations

import io
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from i2v.domain.budgets import SpendReservation
from i2v.domain.claims import FINISHED_LOOK_LEASE, ClaimResult, TransitionRejectedError, WatchLookClaim
from i2v.domain.gmi_answers import GmiRequest, RequestPage
from i2v.domain.jobs import JobStatus, sources_of
from i2v.domain.manifest import BadLine, ManifestRef, ManifestSummary
from i2v.domain.objects import ObjectInfo, Readable
from i2v.domain.pacing import CircuitOpenError, Reservation, reserve
from i2v.domain.record import JobRecord, iso, utc_now
from i2v.domain.sweep import Execution
from i2v.domain.workflow import WatchMessage

T = TypeVar("T")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class FakeJobRepository:
    """The jobs table as a dict; conditional writes are the same checks the DynamoDB expressions make."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.latest_sequencer: dict[str, str] = {}
        self.budget: dict[str, int] = {}
        self.spend: dict[str, dict[str, Decimal]] = {}  # day -> budget (ALL or prefix) -> dollars reserved
        self.generation_history: list[float] = []
        self.model_history: list[float] = []  # what a model-wide question (time_class None) gets
        self.time_classes_asked: list[tuple[str, dict[str, str] | None]] = []

    def put(self, job: JobRecord) -> JobRecord:
        self.jobs[job.job_id] = job.model_dump(mode="json")
        return job

    def claim(self, job: JobRecord, padded_sequencer: str) -> ClaimResult:
        newest = self.latest_sequencer.get(job.source_id)
        if job.job_id in self.jobs or (newest is not None and newest > padded_sequencer):
            existing = self.get(job.job_id)
            return ClaimResult("duplicate", existing) if existing else ClaimResult("superseded", None)
        self.latest_sequencer[job.source_id] = padded_sequencer
        self.put(job)
        return ClaimResult("created", job)

    def get(self, job_id: str) -> JobRecord | None:
        item = self.jobs.get(job_id)
        return JobRecord.model_validate(item) if item is not None else None

    def transition(
        self,
        job_id: str,
        target: JobStatus,
        fields: dict[str, Any] | None = None,
        remove: Iterable[str] = (),
        increment_attempt: bool = False,
    ) -> JobRecord:
        item = self.jobs.get(job_id)
        if item is None or JobStatus(item["status"]) not in sources_of(target):
            raise TransitionRejectedError(job_id, target, JobStatus(item["status"]) if item else None)
        now = iso(utc_now())
        item.update({"status": str(target), "updated_at": now, **(fields or {})})
        item.setdefault("timestamps", {}).setdefault(str(target), now)
        for name in remove:
            item.pop(name, None)
        if increment_attempt:
            item["attempt"] = int(item.get("attempt", 1)) + 1
        return JobRecord.model_validate(item)

    def annotate(self, job_id: str, fields: dict[str, Any]) -> None:
        self.jobs[job_id].update(fields)

    def claim_look(self, job_id: str, look: WatchLookClaim) -> bool:
        """The same condition as JobRepository.claim_look's expression."""
        item = self.jobs.get(job_id)
        if item is None:
            return False
        held = (item.get("watch_chain"), item.get("watch_look"))
        redo = (
            held == (look.chain, look.look)
            and item.get("watch_message") == look.message_id
            and float(item["watch_lease_until"]) < look.now
        )
        in_turn = held[0] != look.chain if look.look == 0 else held == (look.chain, look.look - 1)
        allowed = in_turn or redo
        if allowed:
            item.update(
                watch_chain=look.chain,
                watch_look=look.look,
                watch_message=look.message_id,
                watch_lease_until=look.lease_until,
            )
        return allowed

    def release_look(self, job_id: str, look: WatchLookClaim) -> None:
        self._set_lease(job_id, look, 0)

    def finish_look(self, job_id: str, look: WatchLookClaim) -> None:
        self._set_lease(job_id, look, FINISHED_LOOK_LEASE)

    def _set_lease(self, job_id: str, look: WatchLookClaim, lease_until: float) -> None:
        item = self.jobs.get(job_id) or {}
        held = (item.get("watch_chain"), item.get("watch_look"), item.get("watch_message"))
        if held == (look.chain, look.look, look.message_id):
            item["watch_lease_until"] = lease_until

    def consume_budget(self, day: str, cap: int, expires_at: int) -> bool:
        if self.budget.get(day, 0) >= cap:
            return False
        self.budget[day] = self.budget.get(day, 0) + 1
        return True

    def release_budget(self, day: str) -> None:
        if self.budget.get(day, 0) > 0:
            self.budget[day] -= 1

    def stale(self, status: JobStatus, updated_before: str) -> Iterable[JobRecord]:
        found = [job for job in self.jobs.values() if job["status"] == status and job["updated_at"] < updated_before]
        return [JobRecord.model_validate(job) for job in sorted(found, key=lambda job: job["updated_at"])]

    def reserve_spend(
        self, day: str, usd: Decimal, limits: Mapping[str, Decimal], expires_at: int
    ) -> dict[str, Decimal] | None:
        totals = self.spend.setdefault(day, {})
        if any(totals.get(name, Decimal(0)) >= limit for name, limit in limits.items()):
            return None
        for name in limits:
            totals[name] = totals.get(name, Decimal(0)) + usd
        return dict(totals)

    def spent(self, day: str) -> dict[str, Decimal]:
        return dict(self.spend.get(day, {}))

    def release_spend(self, reservation: SpendReservation, job_id: str | None = None) -> bool:
        if job_id is not None:
            held = self.jobs.get(job_id, {}).get("budget_reserved")
            if held is None or (held["day"], held["usd"]) != (reservation.day, reservation.usd):
                return False
            del self.jobs[job_id]["budget_reserved"]
        totals = self.spend.setdefault(reservation.day, {})
        for name in reservation.budgets:
            totals[name] = totals.get(name, Decimal(0)) - Decimal(str(reservation.usd))
        return True

    def recent_generation_seconds(self, model: str, time_class: Mapping[str, str] | None) -> list[float]:
        self.time_classes_asked.append((model, None if time_class is None else dict(time_class)))
        return list(self.generation_history if time_class is not None else self.model_history)


@dataclass(frozen=True)
class CreatedThenRefused:
    """A scripted POST answer: GMI creates the job (it shows in the request list, created at `created_at`) and
    still raises `error` (the simulator's post_503_after_accept)."""

    error: Exception
    created_at: float


class FakeGmi:
    """GMI's request queue: each call takes the next scripted answer (a GmiRequest, an exception to raise or a
    CreatedThenRefused); with no script left, POSTs are accepted as queued and GETs answer success with a video
    URL."""

    def __init__(self, model: str = "pixverse-v5.5-i2v") -> None:
        self.model = model
        self.missing_key: Exception | None = None
        self.submit_answers: deque[GmiRequest | Exception | CreatedThenRefused] = deque()
        self.get_answers: deque[GmiRequest | Exception] = deque()
        self.submitted: list[dict[str, Any]] = []
        self.submitted_models: list[str] = []
        self.looked_up: list[str] = []
        # GET /requests?model_id=: what GMI lists (an exception to raise it instead).
        self.listed: list[GmiRequest] | Exception = []
        self.list_calls: list[str] = []
        self.list_pages: list[int] = []
        self.list_page_size = 100
        # GET /models/{id}: price_info per model (an exception to raise it instead); absent = GMI gives none.
        self.price_infos: dict[str, dict[str, Any] | Exception] = {}
        self.price_info_calls: list[str] = []
        self._ids = itertools.count(1)

    def check_credentials(self) -> None:
        if self.missing_key is not None:
            raise self.missing_key

    def submit(self, payload: dict[str, Any], model: str | None = None) -> GmiRequest:
        self.submitted.append(payload)
        self.submitted_models.append(model or self.model)
        answer = self.submit_answers.popleft() if self.submit_answers else None
        if isinstance(answer, CreatedThenRefused):
            created = GmiRequest(
                request_id=f"req-{next(self._ids)}",
                status="queued",
                model=model or self.model,
                payload=payload,
                created_at=answer.created_at,
            )
            if isinstance(self.listed, list):
                self.listed.append(created)
            raise answer.error
        if isinstance(answer, Exception):
            raise answer
        return answer or GmiRequest(request_id=f"req-{next(self._ids)}", status="queued")

    def get(self, request_id: str) -> GmiRequest:
        self.looked_up.append(request_id)
        answer = self.get_answers.popleft() if self.get_answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer or GmiRequest(
            request_id=request_id,
            status="success",
            outcome={"video_url": "https://storage.googleapis.com/bucket/video.mp4"},
            created_at=1000.0,
            updated_at=1090.0,
        )

    def list_requests(self, model_id: str, page: int = 1) -> RequestPage:
        """Pages of `list_page_size`, newest first (as the simulator and, by its example, GMI list them)."""
        self.list_calls.append(model_id)
        self.list_pages.append(page)
        if isinstance(self.listed, Exception):
            raise self.listed
        of_model = [request for request in self.listed if request.model in (None, model_id)]
        newest_first = sorted(of_model, key=lambda request: request.created_at or 0.0, reverse=True)
        start = (page - 1) * self.list_page_size
        return RequestPage(newest_first[start : start + self.list_page_size], len(newest_first))

    def price_info(self, model_id: str) -> dict[str, Any] | None:
        self.price_info_calls.append(model_id)
        answer = self.price_infos.get(model_id)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.refusals: deque[Exception] = deque()

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
        if self.refusals:
            raise self.refusals.popleft()
        self.events.append((detail_type, detail))

    def detail_types(self) -> list[str]:
        return [detail_type for detail_type, _ in self.events]


@dataclass
class StoredImage:
    body: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str = "image/png"
    version_id: str | None = None


class FakeImageStorage:
    """Source images by (bucket, key); a key in `deleted` is gone (a delete marker) though its version stays.
    Objects added with a `version_id` keep every such version readable by it (a version not kept reads the latest)."""

    def __init__(self) -> None:
        self.images: dict[tuple[str, str], StoredImage] = {}
        self.versions: dict[tuple[str, str, str], StoredImage] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.presigned: list[str] = []
        self.ranges_read: list[tuple[str, int, int]] = []

    def add(
        self,
        bucket: str,
        key: str,
        body: bytes = PNG,
        metadata: dict[str, str] | None = None,
        version_id: str | None = None,
    ) -> None:
        stored = StoredImage(body, dict(metadata or {}), version_id=version_id)
        self.images[(bucket, key)] = stored
        if version_id is not None:
            self.versions[(bucket, key, version_id)] = stored

    def _object(self, bucket: str, key: str, version_id: str | None) -> StoredImage | None:
        if version_id is not None and (bucket, key, version_id) in self.versions:
            return self.versions[(bucket, key, version_id)]
        return self.images.get((bucket, key))

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo | None:
        image = self._object(bucket, key, version_id)
        if image is None:
            return None
        return ObjectInfo(
            size=len(image.body),
            content_type=image.content_type,
            etag="e",
            metadata=image.metadata,
            version_id=image.version_id,
        )

    def is_deleted(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.deleted

    def first_bytes(self, bucket: str, key: str, version_id: str | None, count: int) -> bytes:
        image = self._object(bucket, key, version_id)
        assert image is not None, f"no object {key}"
        return image.body[:count]

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, count: int) -> bytes:
        self.ranges_read.append((key, start, count))
        return self.first_bytes(bucket, key, version_id, start + count)[start:]

    def presign_get(self, bucket: str, key: str, version_id: str | None, ttl_seconds: int) -> str:
        url = f"https://{bucket}.s3.example/{key}?ttl={ttl_seconds}"
        self.presigned.append(url)
        return url


class FakeMessageBatch:
    """The submit queue's batches: every body sent, in order."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_batch(self, bodies: list[dict[str, Any]]) -> None:
        self.sent.extend(bodies)

    def take(self) -> list[dict[str, Any]]:
        taken, self.sent = self.sent, []
        return taken


class FakeManifestSummaries:
    """Summary records with the adapter's conditions: a chunk is recorded only as the next one."""

    def __init__(self) -> None:
        self.summaries: dict[str, ManifestSummary] = {}
        self.ended: dict[tuple[str, int], str] = {}
        self.early_ends: dict[str, int] = {}
        self.completions: list[str] = []

    def get(self, manifest_id: str) -> ManifestSummary | None:
        return self.summaries.get(manifest_id)

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
    ) -> bool:
        current = self.summaries.get(manifest.manifest_id)
        if current is not None and current.next_offset != offset:
            return False
        early_ends = self.early_ends.pop(manifest.manifest_id, 0)
        current = current or ManifestSummary(manifest_id=manifest.manifest_id, manifest=manifest, ended=early_ends)
        self.summaries[manifest.manifest_id] = current.model_copy(
            update={
                "next_offset": next_offset,
                "chunk_offset": offset,
                "next_line": next_line,
                "lines": current.lines + lines,
                "bad_lines": {**current.bad_lines, **{str(line.line): line.reason for line in bad}},
                "bad_total": current.bad_total + bad_total,
                "split_done": done,
            }
        )
        return True

    def end_line(self, manifest_id: str, line: int, outcome: str) -> bool:
        if (manifest_id, line) in self.ended:
            return False
        self.ended[(manifest_id, line)] = outcome
        current = self.summaries.get(manifest_id)
        if current is None:
            self.early_ends[manifest_id] = self.early_ends.get(manifest_id, 0) + 1
        else:
            self.summaries[manifest_id] = current.model_copy(update={"ended": current.ended + 1})
        return True

    def mark_completed(self, manifest_id: str) -> bool:
        current = self.summaries.get(manifest_id)
        if current is None or current.completed_at is not None:
            return False
        self.summaries[manifest_id] = current.model_copy(update={"completed_at": "now"})
        self.completions.append(manifest_id)
        return True

    def mark_announced(self, manifest_id: str) -> None:
        self.summaries[manifest_id] = self.summaries[manifest_id].model_copy(update={"announced_at": "now"})

    def add_bad_line(self, manifest_id: str, bad: BadLine) -> None:
        current = self.summaries[manifest_id]
        if str(bad.line) not in current.bad_lines:
            self.summaries[manifest_id] = current.model_copy(
                update={
                    "bad_lines": {**current.bad_lines, str(bad.line): bad.reason},
                    "bad_total": current.bad_total + 1,
                }
            )


class FakeVideoStorage:
    """Reads the whole stream, as the multipart upload would, and keeps the bytes."""

    def __init__(self) -> None:
        self.videos: dict[tuple[str, str], bytes] = {}
        self.metadata: dict[tuple[str, str], dict[str, str]] = {}

    def upload(self, stream: Readable, bucket: str, key: str, content_type: str, metadata: dict[str, str]) -> None:
        chunks = []
        while chunk := stream.read(1024 * 1024):
            chunks.append(chunk)
        self.videos[(bucket, key)] = b"".join(chunks)
        self.metadata[(bucket, key)] = metadata


class FakeStoredVideos:
    """Stored videos by (bucket, key); `open` gives a seekable in-memory file and remembers it was asked."""

    def __init__(self) -> None:
        self.videos: dict[tuple[str, str], bytes] = {}
        self.opened: list[tuple[str, str]] = []

    def open(self, bucket: str, key: str) -> io.BytesIO:
        self.opened.append((bucket, key))
        return io.BytesIO(self.videos[(bucket, key)])


class FakeWorkflow:
    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}

    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        if name in self.started:
            return False
        self.started[name] = execution_input
        return True


class FakeExecutions:
    """The workflow's executions by name, as DescribeExecution would tell them (absent: no such execution)."""

    def __init__(self) -> None:
        self.executions: dict[str, Execution] = {}
        self.described: list[str] = []

    def describe(self, name: str) -> Execution | None:
        self.described.append(name)
        return self.executions.get(name)


class FakeRequeue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def __call__(self, body: dict[str, Any], delay_seconds: int) -> None:
        self.sent.append((body, delay_seconds))


class FakeWatchQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[WatchMessage, int]] = []

    def send(self, message: WatchMessage, delay_seconds: int) -> None:
        self.sent.append((message, delay_seconds))


class FakeTaskTokens:
    """Task tokens of Watch states: open until answered (or closed by a test)."""

    def __init__(self) -> None:
        self.closed: set[str] = set()
        self.heartbeats: list[str] = []
        self.answers: dict[str, dict[str, Any]] = {}

    def heartbeat(self, token: str) -> bool:
        self.heartbeats.append(token)
        return token not in self.closed

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        if token in self.closed:
            return False
        self.answers[token] = output
        self.closed.add(token)
        return True


class RecordingMetrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, Any, float]] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.added.append((name, unit, value))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.added]


class RecordingSpend:
    def __init__(self) -> None:
        self.reported: list[tuple[str, float]] = []

    def daily_spend(self, budget: str, total_usd: float) -> None:
        self.reported.append((budget, total_usd))


class FakeBreaker:
    """The circuit breaker: open or closed as the test says; counts the looks."""

    def __init__(self) -> None:
        self.open = False
        self.looks = 0

    def is_open(self) -> bool:
        self.looks += 1
        return self.open

    def call(self, submit: Callable[[], T]) -> T:
        if self.open:
            raise CircuitOpenError("circuit 'gmi-submit' is open")
        return submit()


class FakePace:
    """The shared pace, in memory (same arithmetic as the DynamoDB item: i2v.domain.pacing.reserve)."""

    def __init__(self, next_free_at: float | None = None) -> None:
        self.next_free_at = next_free_at
        self.turns: list[Reservation] = []

    def take_turn(self, now: float, rate_per_minute: int) -> Reservation:
        turn = reserve(self.next_free_at, now, rate_per_minute)
        self.next_free_at = turn.next_free_at
        self.turns.append(turn)
        return turn


@dataclass
class Fakes:
    """One of each port, wired together the way a handler wires the real adapters."""

    repo: FakeJobRepository = field(default_factory=FakeJobRepository)
    gmi: FakeGmi = field(default_factory=FakeGmi)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    images: FakeImageStorage = field(default_factory=FakeImageStorage)
    videos: FakeVideoStorage = field(default_factory=FakeVideoStorage)
    workflow: FakeWorkflow = field(default_factory=FakeWorkflow)
    requeue: FakeRequeue = field(default_factory=FakeRequeue)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    spend: RecordingSpend = field(default_factory=RecordingSpend)
    summaries: FakeManifestSummaries = field(default_factory=FakeManifestSummaries)
    batches: FakeMessageBatch = field(default_factory=FakeMessageBatch)
