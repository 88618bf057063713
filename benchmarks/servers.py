"""Out-of-process helpers: a moto server (the S3 emulator) whose memory is not the process we measure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from types import TracebackType

import requests

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """`python -m moto.server` on 127.0.0.1 in its own process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MotoServer:
        env = {**os.environ, **CREDENTIALS}
        self._process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/moto-api/", timeout=1).status_code < 500:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("moto server did not start")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def reset(self) -> None:
        """Forget every object (moto keeps them in memory)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=30).raise_for_status()
