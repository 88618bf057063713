"""The simulator: a real HTTP(S) server speaking the GMI request-queue API, run in a background thread."""

from __future__ import annotations

import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme

from .config import SimContext, SimulatorConfig
from .contract import API_PREFIX
from .downloads import video_url
from .faults import FaultPlan, FaultSpec, as_spec
from .jobs import Job, JobStore
from .plumbing import ServerOptions, SimServer
from .routes import FAULT_HEADER, GmiApi
from .timing import Timing, TimingSampler
from .video import SHARED_RENDER_CACHE

__all__ = ["FAULT_HEADER", "GmiSimulator", "LogEntry", "SimulatorConfig"]


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
        self._ca: trustme.CA | None = None
        self._ca_path: Path | None = None
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._render_cache = SHARED_RENDER_CACHE
        self._jobs_store: JobStore | None = None
        self._context: SimContext | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> GmiSimulator:
        if self._server is not None:
            return self
        self._stop_event.clear()
        ssl_context: ssl.SSLContext | None = None
        if self.config.tls:
            ssl_context = self._make_tls()
        self._jobs_store = JobStore(
            self._sampler,
            render_cache=self._render_cache,
            fps=self.config.fps,
            image_timeout=self.config.image_fetch_timeout,
            fetch_context=self._fetch_context,
            video_size_bytes=self.config.video_size_bytes,
            render_workers=self.config.render_workers,
        )
        self._context = SimContext(
            config=self.config,
            faults=self.faults,
            store=self._jobs_store,
            sampler=self._sampler,
            images=self._images,
            base_url=lambda: self.base_url,
            count_post=self._count_post,
        )
        options = ServerOptions(
            host=self.config.host,
            port=self.config.port,
            ssl_context=ssl_context,
            stop_event=self._stop_event,
            on_request=self._record,
            max_sleep_seconds=self.config.max_hang_seconds,
            verbose=self.config.verbose,
        )
        self._server = SimServer(GmiApi(self._context), options)
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
        self._ca = self._ca_path = None

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
        return str(self._ca_path) if self._ca_path is not None else None

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
        return video_url(self._routes_context, self.job(request_id))

    # --- internals ----------------------------------------------------------------------------

    @property
    def _store(self) -> JobStore:
        if self._jobs_store is None:
            raise RuntimeError("simulator is not running")
        return self._jobs_store

    @property
    def _routes_context(self) -> SimContext:
        if self._context is None:
            raise RuntimeError("simulator is not running")
        return self._context

    def _make_tls(self) -> ssl.SSLContext:
        """A throwaway CA (trustme) and a certificate for the listening host, 127.0.0.1 and localhost."""
        self._ca = trustme.CA(organization_name="i2v GMI simulator")
        hosts = tuple(dict.fromkeys((self.config.host, "127.0.0.1", "localhost")))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._ca.issue_cert(*hosts).configure_cert(context)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="gmi-sim-tls-"))
        self._ca_path = self._tmpdir / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self._ca_path))
        return context

    def _fetch_context(self) -> ssl.SSLContext | None:
        """System trust plus our CA: the simulator may fetch images it serves itself."""
        if self._ca is None:
            return None
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def _count_post(self) -> None:
        with self._lock:
            self._post_count += 1

    def _record(self, method: str, path: str, status: int, fault: str | None) -> None:
        with self._lock:
            self._log.append(LogEntry(method, path, status, fault, time.time()))
