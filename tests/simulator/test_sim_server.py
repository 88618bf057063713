"""Server mechanics: TLS, clean shutdown with hanging requests, large synthetic videos, ranges, CLI."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.simulator.cli import build_simulator, main
from i2v_local.simulator.video import synthetic_chunks, synthetic_header

from .conftest import Api, ImageServer

LOCAL_ROOT = Path(__file__).resolve().parents[2] / "local"


def test_tls_needs_the_simulators_ca(sim: GmiSimulator) -> None:
    assert sim.base_url.startswith("https://127.0.0.1:")
    assert sim.ca_bundle_path is not None
    assert Path(sim.ca_bundle_path).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert requests.get(f"{sim.base_url}/healthz", verify=sim.ca_bundle_path, timeout=5).json() == {"status": "ok"}
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{sim.base_url}/healthz", verify=True, timeout=5)
    assert sim.client_env() == {"GMI_BASE_URL": sim.base_url, "REQUESTS_CA_BUNDLE": sim.ca_bundle_path}


def test_tls_works_through_requests_ca_bundle_env(sim: GmiSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sim.ca_bundle_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle_path)
    assert requests.get(f"{sim.base_url}/healthz", timeout=5).status_code == 200


def test_ca_bundle_is_removed_on_stop() -> None:
    sim = GmiSimulator(timing=Timing.zero()).start()
    ca = sim.ca_bundle_path
    assert ca is not None
    assert Path(ca).exists()
    sim.stop()
    assert not Path(ca).exists()


def test_plain_http_mode(images: ImageServer) -> None:
    with GmiSimulator(timing=Timing.zero(), tls=False) as sim:
        assert sim.base_url.startswith("http://")
        assert sim.ca_bundle_path is None
        api = Api(sim, images.url())
        url = api.wait_terminal(api.submit())["outcome"]["video_url"]
        assert url.startswith("http://")
        assert api.download(url).status_code == 200


def test_stop_is_prompt_with_a_hanging_request(images: ImageServer) -> None:
    sim = GmiSimulator(timing=Timing.zero(), max_hang_seconds=60).start()
    api = Api(sim, images.url())
    rid = api.submit()
    sim.inject("get_slow", seconds=60)
    outcome: list[object] = []

    def hang() -> None:
        try:
            outcome.append(api.get(rid, timeout=30))
        except requests.RequestException as exc:
            outcome.append(exc)

    client = threading.Thread(target=hang)
    client.start()
    time.sleep(0.2)
    started = time.monotonic()
    sim.stop()
    # Not the 60 s the request hangs for (a generous bound: a loaded host must not fail it).
    assert time.monotonic() - started < 30
    client.join(10)
    assert not client.is_alive()
    assert outcome


def test_hangs_are_capped_by_max_hang_seconds(images: ImageServer) -> None:
    with GmiSimulator(timing=Timing.zero(), tls=False, max_hang_seconds=0.2) as sim:
        api = Api(sim, images.url())
        sim.inject("post_timeout_after_accept", seconds=60)
        started = time.monotonic()
        assert api.post().status_code == 200  # the late response does arrive, after the cap
        assert time.monotonic() - started < 30  # capped at 0.2 s, not the 60 s asked for (generous bound)


def test_concurrent_posts_are_counted(api: Api, sim: GmiSimulator) -> None:
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: api.post().status_code, range(16)))
    assert codes == [200] * 16
    assert sim.post_count == 16
    assert len(sim.jobs) == 16


def test_large_synthetic_video_streams_with_content_length(api: Api, sim: GmiSimulator) -> None:
    size = 64 * 1024 * 1024 + 3
    rid = sim.add_large_video(size)
    body = api.get(rid).json()
    assert body["status"] == "success"
    response = api.download(body["outcome"]["video_url"], stream=True)
    assert int(response.headers["Content-Length"]) == size
    received = 0
    first = b""
    for chunk in response.iter_content(1024 * 1024):
        if not first:
            first = chunk
        received += len(chunk)
    assert received == size
    assert first[4:8] == b"ftyp"


def test_video_size_marker_serves_a_synthetic_body(api: Api) -> None:
    url = api.wait_terminal(api.submit(prompt="zoom [sim:video_size bytes=300000]"))["outcome"]["video_url"]
    response = api.download(url)
    assert len(response.content) == 300000
    assert response.content[4:8] == b"ftyp"


def test_huge_video_uses_64_bit_box_and_serves_ranges(api: Api, sim: GmiSimulator) -> None:
    size = 5 * 1024**3
    header = synthetic_header(size)
    assert struct.unpack(">I4sQ", header[24:40]) == (1, b"mdat", size - 24)
    assert b"".join(synthetic_chunks(size, 10, 50)) == header[10:40] + bytes(10)
    rid = sim.add_large_video(size)
    url = api.get(rid).json()["outcome"]["video_url"]
    head = api.download(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206
    assert head.headers["Content-Range"] == f"bytes 0-99/{size}"
    assert head.content == header + bytes(100 - len(header))
    tail = api.download(url, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, bytes(10))
    assert api.download(url, headers={"Range": f"bytes={size}-"}).status_code == 416


def test_head_on_video(api: Api) -> None:
    url = api.wait_terminal(api.submit())["outcome"]["video_url"]
    response = api.session.head(url, verify=api.sim.verify, timeout=5)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) > 1000
    assert response.content == b""


def test_cli_builds_a_configured_simulator() -> None:
    sim = build_simulator(
        [
            "--port=0",
            "--no-tls",
            "--api-key=k",
            "--fault",
            "post_429 retry_after=3 count=1",
            "--fault-prob",
            "get_500=0.5",
            "--processing-median=30",
            "--time-scale=0.5",
            "--model=extra-model",
        ]
    )
    assert sim.config.api_key == "k"
    assert sim.config.tls is False
    assert sim.config.models == ("pixverse-v5.5-i2v", "extra-model")
    assert sim.config.timing.processing.fixed is None
    assert sim.config.timing.time_scale == 0.5


def test_cli_lists_faults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-faults"]) == 0
    out = capsys.readouterr().out
    assert "post_timeout_after_accept" in out
    assert "video_404" in out


def test_module_entry_point_serves_until_terminated() -> None:
    env = {**os.environ, "PYTHONPATH": str(LOCAL_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "i2v_local.simulator", "--port", "0", "--api-key", "k2"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        base = lines[1].strip().removeprefix("GMI_BASE_URL=")
        ca = lines[2].strip().removeprefix("REQUESTS_CA_BUNDLE=")
        assert base.startswith("https://127.0.0.1:")
        response = requests.get(f"{base}/api/v1/ie/requestqueue/apikey/requests/x", verify=ca, timeout=5)
        assert response.status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_oversized_body_is_413(api: Api, sim: GmiSimulator) -> None:
    response = requests.post(
        sim.requests_url, data=b"x" * (1024 * 1024 + 1), headers=api.auth, verify=sim.verify, timeout=5
    )
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"
