"""DNS rebinding (issue 11, item 7): the video is fetched from the address that was vetted, with SNI, certificate
check and Host header still naming the host, whatever a second DNS answer would say."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from i2v.adapters import video_source
from i2v.adapters.video_source import open_video
from i2v.domain.downloads import VideoUrlRejectedError

HOST = "video.example"
BODY = b"\x00\x00\x00\x18ftypmp42 pinned"


class _VideoServer:
    """HTTPS on 127.0.0.1 with a certificate for video.example only; remembers SNI names and Host headers."""

    def __init__(self, directory: Path) -> None:
        ca = trustme.CA()
        self.ca_path = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.sni: list[str | None] = []
        self.hosts: list[str | None] = []
        seen = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.hosts.append(self.headers.get("Host"))
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def log_message(self, *_: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(HOST).configure_cert(context)
        context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_VideoServer]:
    running = _VideoServer(tmp_path)
    # requests lets the environment's bundle override Session.verify: trust the test CA the same way.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_path))
    yield running
    running.close()


class _RebindingResolver:
    """First answer: the (pretend-public) video host; every later answer: somewhere else."""

    def __init__(self, first: str, later: str) -> None:
        self.answers = [first, later]
        self.asked = 0
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != HOST:
            return self._real(host, port, *args, **kwargs)
        address = self.answers[min(self.asked, 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]


@pytest.fixture
def pretend_loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    real = video_source.is_public_address
    monkeypatch.setattr(video_source, "is_public_address", lambda address: address == "127.0.0.1" or real(address))


@pytest.mark.usefixtures("pretend_loopback_is_public")
def test_the_connection_goes_to_the_vetted_address_with_sni_and_host_kept(
    server: _VideoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = _RebindingResolver(first="127.0.0.1", later="127.0.0.2")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    session = requests.Session()

    video = open_video(f"https://{HOST}:{server.port}/v.mp4", (HOST,), False, session)

    with video.response:
        assert video.response.raw.read() == BODY
    assert resolver.asked == 1  # vetted once, never resolved again
    assert server.sni == [HOST]  # the certificate was checked against the name, not the address
    assert server.hosts == [f"{HOST}:{server.port}"]


@pytest.mark.usefixtures("pretend_loopback_is_public")
def test_a_certificate_for_another_name_is_still_refused(server: _VideoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinning the address must not loosen TLS: the name asked for must be on the certificate."""
    other = "cdn.example"
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
    )
    session = requests.Session()
    with pytest.raises((video_source.DownloadInterruptedError, requests.exceptions.SSLError, ssl.SSLError)):
        open_video(f"https://{other}:{server.port}/v.mp4", (other,), False, session)


def test_a_private_first_answer_is_refused_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _RebindingResolver(first="10.0.0.1", later="10.0.0.1"))
    with pytest.raises(VideoUrlRejectedError, match="non-public"):
        open_video(f"https://{HOST}/v.mp4", (HOST,), False, requests.Session())
