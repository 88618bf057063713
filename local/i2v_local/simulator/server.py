"""The simulator: a real HTTP(S) server speaking the GMI request-queue API, run in a background thread."""

from __future__ import annotations

import hmac
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from .contract import API_PREFIX, DEFAULT_MODEL
from .faults import FaultPlan, FaultSpec, as_spec
from .handler import FAULT_HEADER, SIGNED_QUERY, SimServer
from .jobs import Job, JobStore
from .timing import Timing, TimingSampler
from .tls import TlsFiles
from .tls import generate as generate_tls
from .video import SHARED_RENDER_CACHE

__all__ = ["FAULT_HEADER", "GmiSimulator", "LogEntry", "SimulatorConfig"]


@dataclass
class SimulatorConfig:
    api_key: str = "sim-key"
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    timing: Timing = field(default_factory=Timing)
    models: tuple[str, ...] = (DEFAULT_MODEL,)
    org_id: str = "pixverse"
    # The seed marks duration/aspect_ratio/quality "Required" yet gives defaults; strict enforces the former.
    strict_required: bool = False
    image_fetch_timeout: float = 10.0
    render_workers: int = 2
    fps: int = 10
    # When set, every job serves a synthetic video of this many bytes instead of a render.
    video_size_bytes: int | None = None
    # Upper bound of every deliberate sleep, so a hanging request can never outlive a test.
    max_hang_seconds: float = 30.0
    # Default delay of post_timeout_after_accept / get_slow / post_slow when the spec has no seconds=.
    hang_seconds: float = 15.0
    foreign_video_host: str = "storage.attacker.invalid"
    verbose: bool = False


@dataclass(frozen=True)
class LogEntry:
    """One handled request. `path` never includes the query string (signed URLs are secrets)."""

    method: str
    path: str
    status: int  # 0 when the connection was dropped without a response
    fault: str | None
    at: float


class GmiSimulator:
    """A local stand-in for the GMI Cloud request-queue API.

    Use as a context manager or call start()/stop(). Observability for tests: `post_count`,
    `requests_log`, `jobs`; fault control: `faults` (a FaultPlan), `inject()`, `set_job_faults()`.
    """

    def __init__(
        self,
        *,
        api_key: str = "sim-key",
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        timing: Timing | None = None,
        faults: FaultPlan | Iterable[FaultSpec | str] | None = None,
        config: SimulatorConfig | None = None,
        **options: Any,
    ) -> None:
        if config is None:
            config = SimulatorConfig(
                api_key=api_key, host=host, port=port, tls=tls, timing=timing or Timing(), **options
            )
        self.config = config
        if faults is None:
            self.faults = FaultPlan.from_env()
        else:
            self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan(faults)
        self._sampler = TimingSampler(config.timing)
        self._lock = threading.Lock()
        self._log: list[LogEntry] = []
        self._post_count = 0
        self._images: dict[str, tuple[int, bytes, str]] = {}
        self._stop_event = threading.Event()
        self._tmpdir: Path | None = None
        self._tls_files: TlsFiles | None = None
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._render_cache = SHARED_RENDER_CACHE
        self._jobs_store: JobStore | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> GmiSimulator:
        if self._server is not None:
            return self
        self._stop_event.clear()
        ssl_context: ssl.SSLContext | None = None
        if self.config.tls:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="gmi-sim-tls-"))
            hosts = tuple(dict.fromkeys((self.config.host, "127.0.0.1", "localhost")))
            self._tls_files = generate_tls(self._tmpdir, hosts)
            ssl_context = self._tls_files.server_context()
        self._jobs_store = JobStore(
            self._sampler,
            render_cache=self._render_cache,
            fps=self.config.fps,
            image_timeout=self.config.image_fetch_timeout,
            fetch_context=self._fetch_context,
            video_size_bytes=self.config.video_size_bytes,
            render_workers=self.config.render_workers,
        )
        self._server = SimServer(self, ssl_context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="gmi-sim-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops promptly even with hanging requests: sleepers are woken, connections shut down."""
        self._stop_event.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._jobs_store is not None:
            self._jobs_store.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._tls_files = None

    def __enter__(self) -> GmiSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self.config.tls else "http"
        # Bandit B104: the wildcard address is only compared against here (a wildcard bind shows as loopback).
        any_ipv4 = "0.0.0.0"  # noqa: S104  # nosec B104
        host = self.config.host if self.config.host not in (any_ipv4, "::", "") else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"

    @property
    def requests_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def ca_bundle_path(self) -> str | None:
        """PEM of the CA that signed the server certificate (for REQUESTS_CA_BUNDLE / verify=)."""
        return str(self._tls_files.ca_path) if self._tls_files is not None else None

    @property
    def verify(self) -> str | bool:
        """What to pass as requests' `verify=`."""
        return self.ca_bundle_path or True

    def client_env(self) -> dict[str, str]:
        """Environment for code under test: base URL and CA bundle."""
        env = {"GMI_BASE_URL": self.base_url}
        if self.ca_bundle_path:
            env["REQUESTS_CA_BUNDLE"] = self.ca_bundle_path
        return env

    # --- observability ---------------------------------------------------------------------------

    @property
    def post_count(self) -> int:
        """POSTs that created a job (including those answered with an error after acceptance)."""
        with self._lock:
            return self._post_count

    @property
    def requests_log(self) -> list[LogEntry]:
        with self._lock:
            return list(self._log)

    @property
    def jobs(self) -> dict[str, Job]:
        return self._store.snapshot()

    def job(self, request_id: str) -> Job:
        job = self._store.get(request_id)
        if job is None:
            raise KeyError(request_id)
        return job

    def status_of(self, request_id: str) -> str:
        """The status a GET would report now, without counting as a GET."""
        job = self.job(request_id)
        return self._store.observe(job, count_get=False).status

    def wait_for_job(self, request_id: str, timeout: float = 10.0) -> bool:
        """Block until the job's image fetch and render are done (not the same as its timeline)."""
        return self.job(request_id).done.wait(timeout)

    def reset(self) -> None:
        """Forget jobs, the request log, counters and runtime faults (for shared fixtures)."""
        self.faults.clear()
        self._store.clear()
        with self._lock:
            self._log.clear()
            self._post_count = 0

    # --- fault and content control -------------------------------------------------------------

    def inject(self, fault: FaultSpec | str, count: int | None = 1, **params: object) -> FaultSpec:
        """E.g. inject("post_429", count=2, retry_after=1): the next 2 POSTs answer 429."""
        return self.faults.inject(fault, count, **params)

    def set_job_faults(self, request_id: str, *specs: FaultSpec | str) -> None:
        """Attach job-level faults (e.g. video_reset) to an existing job."""
        job = self.job(request_id)
        for spec in specs:
            parsed = as_spec(spec)
            job.faults[parsed.name] = parsed

    def add_image(self, name: str, data: bytes, content_type: str = "image/png", status: int = 200) -> str:
        """Serve bytes at {base_url}/images/{name} (an image_url source that needs no other server)."""
        self._images[name] = (status, data, content_type)
        return f"{self.base_url}/images/{name}"

    def add_large_video(self, size_bytes: int, request_id: str | None = None) -> str:
        """A finished job whose video streams `size_bytes` of generated data; returns its request_id."""
        rid = request_id or str(uuid.uuid4())
        payload = {"image_url": "https://example.invalid/large.png", "prompt": "synthetic large video"}
        self._store.add_synthetic(size_bytes, payload, self.config.models[0], self.config.org_id, rid)
        return rid

    def video_url(self, request_id: str) -> str:
        """Issue a fresh signed URL for a finished job's video."""
        return self._video_url(self.job(request_id))

    # --- internals used by the handler ---------------------------------------------------------

    @property
    def _store(self) -> JobStore:
        if self._jobs_store is None:
            raise RuntimeError("simulator is not running")
        return self._jobs_store

    @property
    def _jobs(self) -> JobStore:
        return self._store

    def _key_matches(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.config.api_key.encode())

    def _create_job(
        self, model: str, payload: dict[str, Any], faults: list[FaultSpec], get_faults: list[FaultSpec]
    ) -> Job:
        job = self._store.create(model, payload, self.config.org_id, faults, get_faults)
        with self._lock:
            self._post_count += 1
        return job

    def _video_url(self, job: Job) -> str:
        token = self._store.issue_token(job)
        query = SIGNED_QUERY.format(token=token)
        if job.has("video_url_foreign_host"):
            host = job.faults["video_url_foreign_host"].get("host", self.config.foreign_video_host)
            return f"https://{host}/videos/{job.request_id}.mp4?{query}"
        base = self.base_url
        if job.has("video_url_http"):
            base = "http://" + base.split("://", 1)[1]
        return f"{base}/videos/{job.request_id}.mp4?{query}"

    def _fetch_context(self) -> ssl.SSLContext | None:
        return self._tls_files.client_context() if self._tls_files is not None else None

    def _record(self, method: str, path: str, status: int, fault: str | None) -> None:
        with self._lock:
            self._log.append(LogEntry(method, path, status, fault, time.time()))
