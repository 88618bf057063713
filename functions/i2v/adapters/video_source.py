"""Opens the generated video over HTTPS, refusing anything that could turn the download into SSRF: the
video-source port (`VideoSource`) of the complete service."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import requests
from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool

from i2v.domain.downloads import (
    READ_TIMEOUT_SECONDS,
    VIDEO_CONTENT_TYPES,
    DownloadInterruptedError,
    DownloadStoppedError,
    VideoGoneError,
    VideoTooLargeError,
    VideoUrlRejectedError,
)
from i2v.domain.redaction import safe_url

MAX_REDIRECTS = 3
# The body is read in pieces of at most this size (one socket read each), so a deadline is checked often even
# when s3transfer asks for a whole 8 MiB part at once.
READ_PIECE_BYTES = 256 * 1024


def host_allowed(host: str, allowlist: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowlist:
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
        if host == entry:
            return True
    return False


def is_public_address(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", maxsplit=1)[0]).is_global


def check_url(url: str, allowlist: tuple[str, ...], allow_private: bool) -> str | None:
    """Vet one hop; return the address to connect to (None when private addresses are allowed: local runs)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise VideoUrlRejectedError(f"video URL must use https, not {parts.scheme or 'no scheme'!r}")
    host = parts.hostname or ""
    if not host_allowed(host, allowlist):
        raise VideoUrlRejectedError(f"video host {host!r} is not on the allow-list")
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DownloadInterruptedError(f"could not resolve {host!r}: {error}") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not is_public_address(address):
            raise VideoUrlRejectedError(f"video host {host!r} resolves to a non-public address")
    return addresses[0]


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to the address that was vetted instead of resolving the name again (a second answer could
    point anywhere: DNS rebinding). TLS still speaks to the name: SNI and certificate checks use it, and so does
    the Host header. requests has no option for this, hence the small adapter over urllib3's pool keys."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(max_retries=0)
        self._host = host
        self._address = address

    def get_connection_with_tls_context(
        self,
        request: PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: tuple[str, str] | str | None = None,
    ) -> ConnectionPool:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, True if verify is None else verify, cert
        )
        if host_params["host"] != self._host:
            raise VideoUrlRejectedError(f"connection to {host_params['host']!r} was not vetted")
        pool: ConnectionPool = self.poolmanager.connection_from_host(
            host=self._address,
            port=host_params["port"],
            scheme=host_params["scheme"],
            pool_kwargs={**pool_kwargs, "server_hostname": self._host, "assert_hostname": self._host},
        )
        return pool

    def add_headers(self, request: PreparedRequest, **kwargs: Any) -> None:
        request.headers["Host"] = urlsplit(request.url or "").netloc.rpartition("@")[2]


@dataclass
class VideoResponse:
    """An opened download (i2v.domain.downloads.Download)."""

    response: requests.Response
    content_length: int | None
    content_type: str

    def body(self, limit: int, seconds_left: Callable[[], float] | None = None) -> CheckedStream:
        return CheckedStream(self.response.raw, self.content_length, limit, seconds_left)

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.response.close()


@dataclass
class VideoSource:
    """The video-source port: `open_video` with the deployment's allow-list over one `requests.Session`."""

    allowlist: tuple[str, ...]
    allow_private: bool
    session: requests.Session

    def open(
        self, url: str, timeout: float = READ_TIMEOUT_SECONDS, content_types: tuple[str, ...] = VIDEO_CONTENT_TYPES
    ) -> VideoResponse:
        return open_video(url, self.allowlist, self.allow_private, self.session, timeout, content_types)


def _get(session: requests.Session, url: str, address: str | None, timeout: float) -> requests.Response:
    if address is None:
        return session.get(url, stream=True, allow_redirects=False, timeout=(3.05, timeout))
    request = session.prepare_request(requests.Request("GET", url))
    settings = session.merge_environment_settings(url, {}, True, None, None)  # e.g. REQUESTS_CA_BUNDLE
    adapter = PinnedAddressAdapter(urlsplit(url).hostname or "", address)
    verify = settings["verify"] if settings["verify"] is not None else True
    return adapter.send(request, stream=True, timeout=(3.05, timeout), verify=verify, cert=settings["cert"])


def open_video(
    url: str,
    allowlist: tuple[str, ...],
    allow_private: bool,
    session: requests.Session,
    timeout: float = READ_TIMEOUT_SECONDS,
    content_types: tuple[str, ...] = VIDEO_CONTENT_TYPES,
) -> VideoResponse:
    """Follow at most a few redirects by hand, checking every hop before connecting to it."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        address = check_url(current, allowlist, allow_private)
        try:
            response = _get(session, current, address, timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise DownloadInterruptedError(f"video download failed: {type(error).__name__}") from None
        if response.is_redirect:
            location = response.headers.get("Location", "")
            response.close()
            current = urljoin(current, location)
            continue
        if response.status_code in (401, 403, 404, 410):
            response.close()
            raise VideoGoneError(f"video URL answered {response.status_code} ({safe_url(current)})")
        if response.status_code >= 400:
            response.close()
            raise DownloadInterruptedError(f"video host answered {response.status_code}")
        content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        if not content_type.lower().startswith(content_types):
            response.close()
            raise VideoUrlRejectedError(f"URL served {content_type!r}, not one of {', '.join(content_types)}")
        length = response.headers.get("Content-Length")
        return VideoResponse(response, int(length) if length and length.isdigit() else None, content_type)
    raise VideoUrlRejectedError(f"more than {MAX_REDIRECTS} redirects")


class CheckedStream:
    """File-like view of the body that fails loudly unless exactly Content-Length bytes arrive, stops at once
    past `limit` bytes (with or without a Content-Length), and stops when `seconds_left()` (time until the
    caller's stop) runs out: checked before every piece, and no single socket wait may outlast it."""

    def __init__(
        self, raw: Any, expected: int | None, limit: int, seconds_left: Callable[[], float] | None = None
    ) -> None:
        self._raw = raw
        self._expected = expected
        self._limit = limit
        self._seconds_left = seconds_left
        self.received = 0
        # Kept because s3transfer re-raises read errors from its own threads in its own wrappers.
        self.interrupted: DownloadInterruptedError | None = None
        self.too_large: VideoTooLargeError | None = None

    def read(self, size: int = -1) -> bytes:
        # A full `size` unless the body ends: s3transfer takes a short read for the end of the stream.
        wanted = size if size and size > 0 else READ_PIECE_BYTES
        pieces: list[bytes] = []
        got = 0
        while got < wanted:
            piece = self._piece(min(READ_PIECE_BYTES, wanted - got))
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
        chunk = b"".join(pieces)
        if not chunk and self._expected is not None and self.received != self._expected:
            raise self._interrupt(f"video ended at {self.received} of {self._expected} bytes")
        return chunk

    def _piece(self, size: int) -> bytes:
        if self._seconds_left is not None:
            left = self._seconds_left()
            if left <= 0:
                raise self._interrupt(f"download stopped at its deadline after {self.received} bytes", stopped=True)
            _bound_socket_wait(self._raw, left)
        try:
            read_once = getattr(self._raw, "read1", None)  # one socket read, whatever has arrived
            piece: bytes = read_once(size) if read_once is not None else self._raw.read(size)
        except Exception as error:  # urllib3 raises several types for a broken body
            stopped = self._seconds_left is not None and self._seconds_left() <= 0
            reason = "stopped at its deadline" if stopped else f"broke: {type(error).__name__}"
            raise self._interrupt(f"video stream {reason} after {self.received} bytes", stopped=stopped) from None
        self.received += len(piece)
        if self.received > self._limit:
            self.too_large = VideoTooLargeError(f"video is larger than the {self._limit} byte limit")
            raise self.too_large
        return piece

    def _interrupt(self, message: str, stopped: bool = False) -> DownloadInterruptedError:
        self.interrupted = DownloadStoppedError(message) if stopped else DownloadInterruptedError(message)
        return self.interrupted


def _bound_socket_wait(raw: Any, seconds: float) -> None:
    """The next socket read waits at most `seconds` (and never longer than the read timeout): a host that
    stalls at the deadline cannot hold the download past it. No socket (a test double): nothing to bound."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(0.1, min(READ_TIMEOUT_SECONDS, seconds)))
