"""HTTP plumbing: the threading server (TLS handshake per connection) and the request handler.

The handler implements the API routes, the video download and every request-level fault; the
state it works on (jobs, faults, config) belongs to the GmiSimulator that owns the server.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .contract import API_PREFIX, ContractError, validate_request
from .faults import FaultSpec, FaultSpecError, Kind, parse_specs, prompt_markers
from .jobs import Job, Observation
from .video import synthetic_chunks

if TYPE_CHECKING:
    from .server import GmiSimulator

FAULT_HEADER = "X-Sim-Fault"
MAX_BODY_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
SIGNED_QUERY = (
    "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=gmi-sim%2Fauto%2Fstorage%2Fgoog4_request"
    "&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&X-Goog-Signature={token}"
)


class _Dropped(Exception):
    """The handler closed the connection on purpose; nothing more is written."""


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sim: GmiSimulator, ssl_context: ssl.SSLContext | None) -> None:
        self.sim = sim
        self.ssl_context = ssl_context
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((sim.config.host, sim.config.port), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread, so a slow or broken client
        # cannot stall the accept loop.
        conn: socket.socket = request
        if self.ssl_context is not None:
            request.settimeout(10)
            try:
                conn = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
        with self._conns_lock:
            self._conns.add(conn)
        try:
            _Handler(conn, client_address, self)
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            if conn is not request:
                conn.close()

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response is routine here (timeouts, fault tests); stay quiet.
        if self.sim.config.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gmi-sim/1"
    timeout = 30  # idle keep-alive connections do not keep threads forever
    # Headers and body go out in separate writes; without TCP_NODELAY each response waits ~40 ms
    # on the client's delayed ACK.
    disable_nagle_algorithm = True
    server: SimServer

    _status: int = 0
    _fault: str | None = None
    _logged: bool = False

    @property
    def sim(self) -> GmiSimulator:
        return self.server.sim

    def log_message(self, format: str, *args: Any) -> None:
        if self.sim.config.verbose:
            sys.stderr.write(f"gmi-sim: {format % args}\n")

    def send_response(self, code: int, message: str | None = None) -> None:
        # Logged before the response leaves, so a test reading requests_log after its call sees it.
        self._status = code
        self._log_once()
        super().send_response(code, message)

    def _log_once(self) -> None:
        if not self._logged:
            self._logged = True
            self.sim._record(self.command, urlsplit(self.path).path, self._status, self._fault)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # --- plumbing ----------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._status, self._fault, self._logged = 0, None, False
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        try:
            body = self._read_body()
            if body is None:
                return
            self._route(method, path, query, body)
        except _Dropped:
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True
        finally:
            self._log_once()

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            self._error(400, "invalid Content-Length", {"Connection": "close"})
            return None
        if size > MAX_BODY_BYTES:
            # Drain a moderately large body first: answering while the client still sends makes it
            # see a broken pipe instead of our 413.
            remaining = size if size <= 16 * MAX_BODY_BYTES else 0
            while remaining > 0:
                got = len(self.rfile.read(min(remaining, _CHUNK)))
                if not got:
                    break
                remaining -= got
            self._error(413, f"request body larger than {MAX_BODY_BYTES} bytes", {"Connection": "close"})
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        data = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline()
            if len(data) > MAX_BODY_BYTES:
                self._error(413, f"request body larger than {MAX_BODY_BYTES} bytes", {"Connection": "close"})
                return None

    def _send(self, code: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(code, json.dumps(obj).encode(), "application/json", headers)

    def _error(self, code: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        self._json(code, {"error": message, "code": code, **extra}, headers)

    def _drop(self, reset: bool = False) -> None:
        """Close the connection without (the rest of) a response; reset=True sends a TCP RST."""
        self._log_once()
        conn = self.connection
        try:
            self.wfile.flush()
            if reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()
        raise _Dropped

    def _sleep(self, seconds: float) -> None:
        # Bounded and interruptible: stop() wakes every sleeper.
        self.sim._stop_event.wait(max(0.0, min(seconds, self.sim.config.max_hang_seconds)))

    def _retry_after(self, spec: FaultSpec) -> dict[str, str]:
        value = spec.get("retry_after", "1" if spec.name.endswith("429") else "none")
        return {} if value.lower() == "none" else {"Retry-After": value}

    def _authorized(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip() and self.sim._key_matches(token.strip()):
            return True
        self._error(401, "missing or invalid API key (expected Authorization: Bearer <key>)")
        return False

    def _header_faults(self) -> list[FaultSpec] | None:
        raw = self.headers.get(FAULT_HEADER)
        if not raw:
            return []
        try:
            return parse_specs(raw)
        except FaultSpecError as exc:
            self._error(400, f"{FAULT_HEADER}: {exc}")
            return None

    # --- routes ------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        if path == "/healthz" and method in ("GET", "HEAD"):
            self._json(200, {"status": "ok"})
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            request_id = path[len(API_PREFIX) + 1 :]
            if not self._authorized():
                return
            if path == API_PREFIX and method == "POST":
                self._post(body)
            elif request_id and "/" not in request_id and method == "GET":
                self._get_status(request_id)
            elif path == API_PREFIX or (request_id and "/" not in request_id):
                allow = "POST" if path == API_PREFIX else "GET"
                self._error(405, f"method {method} not allowed here", {"Allow": allow})
            else:
                self._error(404, "not found")
        elif path.startswith("/videos/") and path.endswith(".mp4") and method in ("GET", "HEAD"):
            self._video(path[len("/videos/") : -len(".mp4")], query)
        elif path.startswith("/images/") and method in ("GET", "HEAD"):
            image = self.sim._images.get(path[len("/images/") :])
            if image is None:
                self._error(404, "no such image")
            else:
                self._send(image[0], image[1], image[2])
        else:
            self._error(404, "not found")

    def _post_faults(self, body: Any, header_specs: list[FaultSpec]) -> tuple[dict[str, FaultSpec], list[FaultSpec]]:
        """POST-level faults firing now (header, plan, prompt markers) and all prompt markers."""
        sim = self.sim
        payload = body.get("payload") if isinstance(body, dict) else None
        prompt = payload.get("prompt") if isinstance(payload, dict) else None
        markers = prompt_markers(prompt) if isinstance(prompt, str) else []
        post_faults = [s for s in header_specs if s.kind == Kind.POST] + sim.faults.take(Kind.POST)
        if markers and isinstance(payload, dict):
            # Same source image + prompt = same submission: retries see the marker fault only `count`
            # times. The query string is ignored because a re-presigned URL changes it.
            fingerprint = f"{str(payload.get('image_url')).split('?', 1)[0]}\0{prompt}"
            post_faults += [s for s in markers if s.kind == Kind.POST and sim.faults.take_marker(fingerprint, s)]
        return {s.name: s for s in post_faults}, markers

    def _early_fault(self, by_name: Mapping[str, FaultSpec], prefix: str) -> bool:
        """Faults that answer before any work (post_*/get_* slow, refused, 429, 500, 503, drop); True if answered."""
        slow = by_name.get(f"{prefix}_slow")
        if slow is not None:
            self._fault = slow.name
            self._sleep(slow.num("seconds", self.sim.config.hang_seconds))
        refused = by_name.get(f"{prefix}_refused")
        if refused is not None:
            self._fault = refused.name
            self._error(int(refused.num("status", 403)), refused.get("message", "simulated refusal"))
            return True
        for code in (429, 500, 503):
            spec = by_name.get(f"{prefix}_{code}")
            if spec is not None:
                self._fault = spec.name
                self._error(code, f"simulated {code}", self._retry_after(spec))
                return True
        if f"{prefix}_drop" in by_name:
            self._fault = f"{prefix}_drop"
            self._drop()
        return False

    def _post(self, raw: bytes) -> None:
        sim = self.sim
        self._sleep(sim._sampler.api_latency())
        header_specs = self._header_faults()
        if header_specs is None:
            return
        try:
            body = json.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._error(400, "request body is not valid JSON")
            return

        by_name, markers = self._post_faults(body, header_specs)
        if self._early_fault(by_name, "post"):
            return

        try:
            model, resolved = validate_request(
                body, models=sim.config.models, strict_required=sim.config.strict_required
            )
        except ContractError as exc:
            self._error(400, str(exc), errors=exc.errors)
            return

        job_faults = [s for s in header_specs if s.kind == Kind.JOB]
        job_faults += [s for s in markers if s.kind == Kind.JOB]
        job_faults += sim.faults.take(Kind.JOB)
        get_faults = [s for s in markers if s.kind == Kind.GET]
        job = sim._create_job(model, resolved, job_faults, get_faults)

        for name, code in (("post_500_after_accept", 500), ("post_503_after_accept", 503)):
            spec = by_name.get(name)
            if spec is not None:
                self._fault = name
                self._error(code, f"simulated {code}", self._retry_after(spec))
                return
        hang = by_name.get("post_timeout_after_accept")
        if hang is not None:
            self._fault = hang.name
            if hang.get("mode", "sleep") == "drop":
                self._drop()
            self._sleep(hang.num("seconds", sim.config.hang_seconds))
        if "post_malformed_json" in by_name:
            self._fault = "post_malformed_json"
            self._send(
                200, _malformed(self._job_body(job, sim._jobs.observe(job, count_get=False))), "application/json"
            )
            return
        if "post_success" in by_name:
            self._fault = "post_success"
            sim._jobs.finish_now(job, sim.config.max_hang_seconds)
            self._json(200, self._job_body(job, sim._jobs.observe(job, count_get=False)))
            return
        self._json(200, self._job_body(job, Observation("queued", job.created_at)))

    def _get_status(self, request_id: str) -> None:
        sim = self.sim
        self._sleep(sim._sampler.api_latency())
        header_specs = self._header_faults()
        if header_specs is None:
            return
        faults = [s for s in header_specs if s.kind == Kind.GET] + sim.faults.take(Kind.GET)
        job = sim._jobs.get(request_id)
        if job is not None:
            job_fault = sim._jobs.take_get_fault(job)
            if job_fault is not None:
                faults.append(job_fault)
        by_name = {s.name: s for s in faults}

        if self._early_fault(by_name, "get"):
            return
        if job is None or "get_404" in by_name:
            self._fault = "get_404" if job is not None else None
            self._error(404, f"request {request_id} not found")
            return
        body = self._job_body(job, sim._jobs.observe(job, count_get=True))
        if "get_malformed_json" in by_name:
            self._fault = "get_malformed_json"
            self._send(200, _malformed(body), "application/json")
            return
        self._json(200, body)

    def _job_body(self, job: Job, obs: Observation) -> dict[str, Any]:
        body: dict[str, Any] = {
            "request_id": job.request_id,
            "org_id": job.org_id,
            "model": job.model,
            "status": obs.status,
            "payload": job.payload,
            "created_at": int(job.created_at),
            "updated_at": int(obs.updated_at),
        }
        if obs.status == "success":
            missing = job.faults.get("success_without_outcome")
            if missing is None:
                body["outcome"] = {"video_url": self.sim._video_url(job)}
            else:
                shape = missing.get("shape", "missing")
                if shape == "null":
                    body["outcome"] = None
                elif shape == "empty":
                    body["outcome"] = {}
                elif shape == "blank_url":
                    body["outcome"] = {"video_url": ""}
        elif obs.status == "failed":
            # The seed does not document the failure shape; a top-level message is our assumption.
            body["error"] = obs.error or "video generation failed"
        return body

    def _video(self, request_id: str, query: dict[str, list[str]]) -> None:
        sim = self.sim
        job = sim._jobs.get(request_id)
        if job is None or not job.done.is_set() or job.video_length is None:
            self._error(404, "no such object")
            return
        token = (query.get("X-Goog-Signature") or [""])[0]
        if token not in job.tokens:
            self._error(403, "signature does not match")
            return
        sim._jobs.count_download(job)
        for name, code in (("video_403", 403), ("video_404", 404)):
            spec = job.faults.get(name)
            if spec is None:
                continue
            if spec.get("scope", "always") != "once" or sim._jobs.expire_once(job, token):
                self._fault = name
                self._error(code, "access denied: URL expired" if code == 403 else "no such object")
                return
        for name, default in (
            ("video_redirect_private", f"http://10.0.0.1/videos/{request_id}.mp4"),
            ("video_redirect_foreign", f"https://{sim.config.foreign_video_host}/videos/{request_id}.mp4"),
        ):
            spec = job.faults.get(name)
            if spec is not None:
                self._fault = name
                self._send(302, b"", "text/plain", {"Location": spec.get("target", default)})
                return
        if job.has("video_redirect_ok") and "redirected" not in query:
            self._fault = "video_redirect_ok"
            location = f"{sim.base_url}/videos/{request_id}.mp4?{SIGNED_QUERY.format(token=token)}&redirected=1"
            self._send(302, b"", "text/plain", {"Location": location})
            return
        self._stream_video(job)

    def _stream_video(self, job: Job) -> None:
        size = job.video_length or 0
        start, end = 0, size
        status = 200
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{job.request_id}"'}
        wanted = self.headers.get("Range")
        if wanted:
            parsed = _parse_range(wanted, size)
            if parsed is None:
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                return
            start, end = parsed
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        cut: int | None = None
        reset: FaultSpec | None = None
        for name in ("video_truncated", "video_reset"):
            spec = job.faults.get(name)
            if spec is not None:
                self._fault = name
                cut = start + int((end - start) * min(max(spec.num("fraction", 0.5), 0.0), 1.0))
                reset = spec if name == "video_reset" else None
        slow = job.faults.get("video_slow")
        rate = slow.num("bytes_per_second", 256 * 1024) if slow is not None else None
        if rate is not None:
            self._fault = "video_slow"
        self.send_response(status)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(end - start))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "HEAD":
            return

        deadline = time.monotonic() + self.sim.config.max_hang_seconds
        for chunk in _chunks(job, start, cut if cut is not None else end):
            if rate is None or time.monotonic() >= deadline:
                self.wfile.write(chunk)
            else:
                # Small slices, each paced before it is sent, so the client sees the whole body late.
                step = max(1, int(rate / 20))
                for pos in range(0, len(chunk), step):
                    self._sleep(min(step, len(chunk) - pos) / rate)
                    self.wfile.write(chunk[pos : pos + step])
            if self.sim._stop_event.is_set():
                self._drop()
        if cut is not None:
            if reset is not None:
                # Give the client time to read what was sent: an RST makes Linux discard unread data.
                self._sleep(reset.num("delay", 0.5))
            self._drop(reset=reset is not None)


def _chunks(job: Job, start: int, end: int) -> Iterator[bytes]:
    if job.video is not None:
        view = memoryview(job.video)
        for pos in range(start, end, _CHUNK):
            yield bytes(view[pos : min(pos + _CHUNK, end)])
    else:
        yield from synthetic_chunks(job.synthetic_size or 0, start, end)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range as [start, end); None if unsatisfiable."""
    unit, _, spec = value.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if not first:
            n = int(last)
            return (max(0, size - n), size) if n > 0 and size else None
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    return (start, end) if 0 <= start < end else None


def _malformed(body: dict[str, Any]) -> bytes:
    text = json.dumps(body).encode()
    return text[: max(1, len(text) // 2)]
