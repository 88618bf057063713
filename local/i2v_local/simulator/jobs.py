"""Jobs and their lifecycle: [created ->] queued -> [dispatched ->] processing -> success | failed | cancelled.

Status is computed lazily from each job's timeline when asked, so GETs are cheap. The expensive
part (fetching image_url and rendering the MP4) runs on a small worker pool, started by a single
scheduler thread when the job leaves `queued`; a job is never reported terminal before its work
is done, which gives the zero-time mode "success on the first GET after the video is made".
A job reports `created` for the first CREATED_SHARE of its queued time and `dispatched` for the first
DISPATCHED_SHARE of its processing time (so only runs with real delays see them); the `status_walk`
fault makes the first GETs report given statuses, for deterministic tests.
"""

from __future__ import annotations

import heapq
import io
import itertools
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .contract import render_plan
from .faults import FaultSpec
from .imagefetch import ImageFetchError, fetch_image
from .timing import TimingSampler
from .video import InvalidImageError, RenderCache, decode_image

CREATED_SHARE = 0.1
DISPATCHED_SHARE = 0.1
THUMBNAIL_WIDTH = 160
# What a misconfigured CDN sends as "video/mp4": an HTML error page (video_junk fault).
JUNK_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>\n"

TERMINAL = frozenset({"success", "failed", "cancelled"})
DEFAULT_FAILURE = "video generation failed (simulated)"


class GmiClock:
    """GMI's clock: the wall clock, plus the offset a time-warped run moves every clock by
    (i2v_local.timewarp.functions_warped). Ours and GMI's must move together: reconciliation matches GMI's
    `created_at` against our send times within a minute's skew, as real (NTP-synchronised) clocks allow."""

    offset: Callable[[], float] = staticmethod(lambda: 0.0)

    @classmethod
    def now(cls) -> float:
        return time.time() + cls.offset()


@dataclass
class CountedFault:
    spec: FaultSpec
    remaining: int


@dataclass
class Job:
    request_id: str
    org_id: str
    model: str
    payload: dict[str, Any]
    created_at: float
    queued_until: float
    processing_until: float
    faults: dict[str, FaultSpec] = field(default_factory=dict)
    # GET-level faults that came with the job (prompt markers), each firing `remaining` more times.
    get_faults: list[CountedFault] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    done_at: float | None = None
    video: bytes | None = None
    # A JPEG of the source image: the outcome's thumbnail_image_url for models that send one.
    thumbnail: bytes | None = None
    synthetic_size: int | None = None
    failure: str | None = None
    get_count: int = 0
    download_count: int = 0
    reported: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    dead_tokens: set[str] = field(default_factory=set)
    expired_once: bool = False
    started: bool = False

    def has(self, name: str) -> bool:
        return name in self.faults

    @property
    def video_length(self) -> int | None:
        if self.synthetic_size is not None:
            return self.synthetic_size
        return None if self.video is None else len(self.video)


@dataclass(frozen=True)
class Observation:
    status: str
    updated_at: float
    error: str | None = None


class JobStore:
    def __init__(
        self,
        sampler: TimingSampler,
        *,
        render_cache: RenderCache,
        fps: int,
        image_timeout: float,
        fetch_context: Callable[[], ssl.SSLContext | None],
        video_size_bytes: int | None = None,
        render_workers: int = 2,
        clock: Callable[[], float] = GmiClock.now,
    ) -> None:
        self._sampler = sampler
        self._cache = render_cache
        self._fps = fps
        self._image_timeout = image_timeout
        self._fetch_context = fetch_context
        self._video_size_bytes = video_size_bytes
        self._clock = clock
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(self._lock)
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=max(1, render_workers), thread_name_prefix="gmi-sim-render")
        self._scheduler = threading.Thread(target=self._schedule_loop, name="gmi-sim-scheduler", daemon=True)
        self._scheduler.start()

    # --- creation and lookup ---------------------------------------------------------------

    def create(
        self,
        model: str,
        payload: dict[str, Any],
        org_id: str,
        faults: list[FaultSpec],
        get_faults: list[FaultSpec],
    ) -> Job:
        now = self._clock()
        queued = self._sampler.queued()
        processing = self._sampler.processing()
        job = Job(
            request_id=str(uuid.uuid4()),
            org_id=org_id,
            model=model,
            payload=payload,
            created_at=now,
            queued_until=now + queued,
            processing_until=now + queued + processing,
            faults={spec.name: spec for spec in faults},
            get_faults=[CountedFault(s, 1 if s.count is None else s.count) for s in get_faults],
        )
        with self._lock:
            self._jobs[job.request_id] = job
            heapq.heappush(self._heap, (job.queued_until, next(self._seq), job.request_id))
            self._wake.notify()
        return job

    def add_synthetic(self, size_bytes: int, payload: dict[str, Any], model: str, org_id: str, request_id: str) -> Job:
        """An already finished job whose video is `size_bytes` of generated data (memory benchmarks)."""
        now = self._clock()
        job = Job(request_id, org_id, model, payload, now, now, now, synthetic_size=size_bytes, done_at=now)
        job.done.set()
        with self._lock:
            self._jobs[request_id] = job
        return job

    def get(self, request_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(request_id)

    def of_model(self, model: str) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.model == model]

    def snapshot(self) -> dict[str, Job]:
        with self._lock:
            return dict(self._jobs)

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._heap.clear()

    # --- status ------------------------------------------------------------------------------

    def observe(self, job: Job, *, count_get: bool) -> Observation:
        """The status a GET reports now. `count_get` advances per-GET behaviour (unknown_status)."""
        with self._lock:
            if count_get:
                job.get_count += 1
            obs = self._status(job, self._clock())
            if count_get:
                job.reported.append(obs.status)
            return obs

    def _status(self, job: Job, now: float) -> Observation:
        unknown = job.faults.get("unknown_status")
        if unknown is not None and job.get_count <= int(unknown.num("gets", 2)):
            return Observation(unknown.get("status", "paused"), job.created_at)
        walk = job.faults.get("status_walk")
        if walk is not None:
            steps = [step.strip() for step in walk.get("statuses", "created,dispatched").split(",") if step.strip()]
            if 0 < job.get_count <= len(steps):
                return Observation(steps[job.get_count - 1], job.created_at)
        if now < job.queued_until:
            created_until = job.created_at + (job.queued_until - job.created_at) * CREATED_SHARE
            return Observation("created" if now < created_until else "queued", job.created_at)
        if job.has("job_stuck") or now < job.processing_until or not job.done.is_set():
            dispatched_until = job.queued_until + (job.processing_until - job.queued_until) * DISPATCHED_SHARE
            return Observation("dispatched" if now < dispatched_until else "processing", job.queued_until)
        finished = max(job.processing_until, job.done_at or job.processing_until)
        if job.has("job_cancelled"):
            return Observation("cancelled", finished)
        if job.failure is not None:
            return Observation("failed", finished, job.failure)
        return Observation("success", finished)

    def finish_now(self, job: Job, timeout: float) -> bool:
        """Collapse the timeline (for `post_success`): wait for the work, then report terminal."""
        with self._lock:
            now = self._clock()
            job.queued_until = min(job.queued_until, now)
            job.processing_until = min(job.processing_until, now)
            heapq.heappush(self._heap, (now, next(self._seq), job.request_id))
            self._wake.notify()
        return job.done.wait(timeout)

    def take_get_fault(self, job: Job) -> FaultSpec | None:
        with self._lock:
            for counted in job.get_faults:
                if counted.remaining > 0:
                    counted.remaining -= 1
                    return counted.spec
        return None

    # --- signed video URLs --------------------------------------------------------------------

    def issue_token(self, job: Job) -> str:
        token = secrets.token_hex(32)
        with self._lock:
            job.tokens[token] = len(job.tokens)
        return token

    def expire_once(self, job: Job, token: str) -> bool:
        """First download fails and every URL issued so far expires; later URLs work."""
        with self._lock:
            if not job.expired_once:
                job.expired_once = True
                job.dead_tokens.update(job.tokens)
            return token in job.dead_tokens

    def count_download(self, job: Job) -> None:
        with self._lock:
            job.download_count += 1

    # --- work -------------------------------------------------------------------------------

    def _schedule_loop(self) -> None:
        with self._lock:
            while not self._stopped:
                now = self._clock()
                if self._heap and self._heap[0][0] <= now:
                    _, _, request_id = heapq.heappop(self._heap)
                    job = self._jobs.get(request_id)
                    if job is not None:
                        self._pool.submit(self._work, job)
                    continue
                timeout = (self._heap[0][0] - now) if self._heap else None
                self._wake.wait(timeout)

    def _work(self, job: Job) -> None:
        with self._lock:
            if job.done.is_set() or job.started:
                return
            job.started = True
        try:
            self._produce(job)
        except Exception as exc:  # a bug in rendering must fail the job, not hang it
            job.failure = f"internal error while generating the video ({type(exc).__name__})"
        job.done_at = self._clock()
        job.done.set()

    def _produce(self, job: Job) -> None:
        if job.has("job_stuck") or job.has("job_cancelled"):
            return
        failed = job.faults.get("job_failed")
        if failed is not None:
            job.failure = failed.get("message", DEFAULT_FAILURE)
            return
        broken = job.faults.get("image_fetch_fails")
        if broken is not None:
            job.failure = f"image_url could not be fetched (HTTP {broken.get('status', '403')})"
            return
        plan = render_plan(job.model, job.payload)
        try:
            image = fetch_image(plan.image_url, timeout=self._image_timeout, ssl_context=self._fetch_context())
            end_image = (
                fetch_image(plan.end_frame_url, timeout=self._image_timeout, ssl_context=self._fetch_context())
                if plan.end_frame_url
                else None
            )
        except ImageFetchError as exc:
            job.failure = str(exc)
            return
        try:
            job.thumbnail = _thumbnail(image)
        except InvalidImageError as exc:
            job.failure = str(exc)
            return
        junk = job.faults.get("video_junk")
        if junk is not None:
            junk_size = max(1, int(junk.num("bytes", 200_000)))
            job.video = (JUNK_PAGE * (junk_size // len(JUNK_PAGE) + 1))[:junk_size]
            return
        sized = job.faults.get("video_size")
        size = int(sized.num("bytes", 0)) if sized is not None else self._video_size_bytes
        try:
            if size:
                decode_image(image)  # still reject junk, like the real renderer would
                job.synthetic_size = size
            else:
                job.video = self._cache.render(image, plan.aspect_ratio, plan.seconds, self._fps, end_image)
        except InvalidImageError as exc:
            job.failure = str(exc)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify_all()
        self._scheduler.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)


def _thumbnail(image: bytes) -> bytes:
    picture = decode_image(image)
    height = max(2, round(picture.height * THUMBNAIL_WIDTH / max(1, picture.width)))
    out = io.BytesIO()
    picture.resize((THUMBNAIL_WIDTH, height)).save(out, "JPEG", quality=80)
    return out.getvalue()
