"""Fixtures for the GMI simulator tests: a tiny image server, a running simulator and a client."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from PIL import Image

from i2v_local.simulator import DEFAULT_MODEL, GmiSimulator, Timing


def make_png(width: int = 320, height: int = 240) -> bytes:
    img = Image.new("RGB", (width, height))
    img.putdata([(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


class _ImageHandler(BaseHTTPRequestHandler):
    png = make_png()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/img.png":
            code, body, ctype = 200, self.png, "image/png"
        elif path == "/junk.png":
            code, body, ctype = 200, b"this is not an image", "image/png"
        elif path == "/forbidden.png":
            code, body, ctype = 403, b"<Error>AccessDenied</Error>", "application/xml"
        else:
            code, body, ctype = 404, b"<Error>NoSuchKey</Error>", "application/xml"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ImageServer:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str = "img.png") -> str:
        # A query string like a presigned URL's, which the simulator must pass through untouched.
        return f"{self.base}/{name}?X-Amz-Signature=deadbeef"


@pytest.fixture(scope="session")
def images() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/img.png"


class Api:
    """A small client of the simulator: every call passes `verify=` (REQUESTS_CA_BUNDLE would win over a session's)."""

    def __init__(self, sim: GmiSimulator, image_url: str) -> None:
        self.sim = sim
        self.image_url = image_url
        self.session = requests.Session()
        self.auth = {"Authorization": f"Bearer {sim.config.api_key}"}

    def body(self, **payload: Any) -> dict[str, Any]:
        return {"model": DEFAULT_MODEL, "payload": {"image_url": self.image_url, "prompt": "slow zoom", **payload}}

    def post(
        self,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        timeout: float = 10,
        **payload: Any,
    ) -> requests.Response:
        all_headers = {**(self.auth if auth else {}), **(headers or {})}
        data = self.body(**payload) if body is None else body
        return self.session.post(
            self.sim.requests_url, json=data, headers=all_headers, verify=self.sim.verify, timeout=timeout
        )

    def submit(self, **payload: Any) -> str:
        response = self.post(**payload)
        assert response.status_code == 200, response.text
        return str(response.json()["request_id"])

    def get(self, request_id: str, *, headers: dict[str, str] | None = None, timeout: float = 10) -> requests.Response:
        return self.session.get(
            f"{self.sim.requests_url}/{request_id}",
            headers={**self.auth, **(headers or {})},
            verify=self.sim.verify,
            timeout=timeout,
        )

    def wait_terminal(self, request_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.get(request_id)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                if body["status"] in ("success", "failed", "cancelled"):
                    return body
            time.sleep(0.02)
        raise AssertionError(f"{request_id} not terminal after {timeout}s")

    def download(self, url: str, **kwargs: Any) -> requests.Response:
        return self.session.get(url, verify=self.sim.verify, timeout=10, **kwargs)


@pytest.fixture
def sim() -> Iterator[GmiSimulator]:
    with GmiSimulator(timing=Timing.zero(), max_hang_seconds=5) as simulator:
        yield simulator


@pytest.fixture
def api(sim: GmiSimulator, images: ImageServer) -> Api:
    return Api(sim, images.url())
