"""HTTP plumbing: a threading server (TLS handshake per connection) and one `Exchange` per request.

Nothing here knows the GMI API. The server hands every request to an `App` (the routes) as an
`Exchange`: the parsed request plus the few ways to answer it (a body, a stream, a dropped
connection) and a bounded, interruptible sleep.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

MAX_BODY_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024


class Dropped(Exception):
    """The connection was closed on purpose; nothing more is written."""


class App(Protocol):
    """What the server serves: routes get each request as an Exchange."""

    def handle(self, exchange: Exchange) -> None: ...


# (method, path without query, status (0 = dropped), fault name or None)
RequestLogger = Callable[[str, str, int, str | None], None]


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    ssl_context: ssl.SSLContext | None
    stop_event: threading.Event
    on_request: RequestLogger
    # Upper bound of every deliberate sleep, so a hanging request can never outlive a test.
    max_sleep_seconds: float = 30.0
    verbose: bool = False


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: App, options: ServerOptions) -> None:
        self.app = app
        self.options = options
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((options.host, options.port), Exchange)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread, so a slow or broken client
        # cannot stall the accept loop.
        conn: socket.socket = request
        context = self.options.ssl_context
        if context is not None:
            request.settimeout(10)
            try:
                conn = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
        with self._conns_lock:
            self._conns.add(conn)
        try:
            Exchange(conn, client_address, self)
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
        if self.options.verbose:
            super().handle_error(request, client_address)


class Exchange(BaseHTTPRequestHandler):
    """One request and its answer. Routes use: method, path, query, body, headers, fault and the
    send/json/error/start_body/write/drop/sleep methods."""

    protocol_version = "HTTP/1.1"
    server_version = "gmi-sim/1"
    timeout = 30  # idle keep-alive connections do not keep threads forever
    # Headers and body go out in separate writes; without TCP_NODELAY each response waits ~40 ms
    # on the client's delayed ACK.
    disable_nagle_algorithm = True
    server: SimServer

    method: str = ""
    path_only: str = ""
    query: dict[str, list[str]]
    body: bytes = b""
    # The fault that shaped this answer, for the request log.
    fault: str | None = None
    _status: int = 0
    _logged: bool = False

    # --- what routes read ----------------------------------------------------------------------

    @property
    def is_head(self) -> bool:
        return self.method == "HEAD"

    @property
    def stopping(self) -> bool:
        return self.server.options.stop_event.is_set()

    # --- what routes answer with ---------------------------------------------------------------

    def send(self, code: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.start_body(code, {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})})
        if not self.is_head:
            self.wfile.write(body)

    def json(self, code: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self.send(code, json.dumps(obj).encode(), "application/json", headers)

    def error(self, code: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        self.json(code, {"error": message, "code": code, **extra}, headers)

    def start_body(self, code: int, headers: Mapping[str, str]) -> None:
        """Status line and headers; the body follows with write()."""
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def write(self, chunk: bytes) -> None:
        self.wfile.write(chunk)

    def drop(self, reset: bool = False) -> None:
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
        raise Dropped

    def sleep(self, seconds: float) -> None:
        # Bounded and interruptible: stopping the server wakes every sleeper.
        options = self.server.options
        options.stop_event.wait(max(0.0, min(seconds, options.max_sleep_seconds)))

    # --- BaseHTTPRequestHandler hooks ----------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.options.verbose:
            sys.stderr.write(f"gmi-sim: {format % args}\n")

    def send_response(self, code: int, message: str | None = None) -> None:
        # Logged before the response leaves, so a test reading the request log after its call sees it.
        self._status = code
        self._log_once()
        super().send_response(code, message)

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

    # --- internals -----------------------------------------------------------------------------

    def _log_once(self) -> None:
        if not self._logged:
            self._logged = True
            self.server.options.on_request(self.method, self.path_only, self._status, self.fault)

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        self.method, self.path_only, self.query = method, split.path, parse_qs(split.query)
        self._status, self.fault, self._logged = 0, None, False
        try:
            body = self._read_body()
            if body is None:
                return
            self.body = body
            self.server.app.handle(self)
        except Dropped:
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
            self.error(400, "invalid Content-Length", {"Connection": "close"})
            return None
        if size > MAX_BODY_BYTES:
            # Drain a moderately large body first: answering while the client still sends makes it
            # see a broken pipe instead of our 413.
            remaining = size if size <= 16 * MAX_BODY_BYTES else 0
            while remaining > 0:
                got = len(self.rfile.read(min(remaining, READ_CHUNK)))
                if not got:
                    break
                remaining -= got
            self.error(413, f"request body larger than {MAX_BODY_BYTES} bytes", {"Connection": "close"})
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
                self.error(413, f"request body larger than {MAX_BODY_BYTES} bytes", {"Connection": "close"})
                return None
