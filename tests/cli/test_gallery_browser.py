"""`i2v gallery` in a real browser: Debian's chromium, headless, loads the page from a loopback HTTP server with
`?selftest=1`; the page's own hook writes into its DOM whether each poster and preview loaded and whether each
preview animates (WebCodecs ImageDecoder on its bytes), and `--dump-dom` hands that DOM back.

Never skipped: without chromium the test fails and says how to install it (`make test` installs it as root).
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cli.test_cli import cli_gmi, running_stack  # noqa: F401  (fixtures: a stack of this module's own)
from fixtures.cli import cli_json, run
from i2v.adapters.repository import JobRepository
from support.videos import detailed_png

pytestmark = pytest.mark.xdist_group(__name__)

SELFTEST = re.compile(r'<pre id="selftest">(.*?)</pre>', re.DOTALL)
# Headless, and nothing but loopback: the browser's own background traffic (updates, safe browsing, DNS) goes
# nowhere (a dead local proxy, every other host unresolvable); Chromium never proxies loopback.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pings",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--metrics-recording-only",
    "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=30000",
)  # fmt: skip
DUMP_ATTEMPTS = 5  # virtual time can run out before an off-thread decode reports (more so on a loaded machine)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[str]:
    """The directory over HTTP on 127.0.0.1 (ImageDecoder needs a secure context: loopback is one)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package when run as root "
                    "(or: sudo apt-get install -y chromium)")  # fmt: skip
    return found


def selftest_report(url: str, profile: Path) -> dict[str, Any]:
    """Load `url` headless and return what the page's self-test wrote into its DOM."""
    dom = ""
    for attempt in range(DUMP_ATTEMPTS):
        done = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile / str(attempt)}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        dom = done.stdout
        found = SELFTEST.search(dom)
        if found and found.group(1).strip():
            report: dict[str, Any] = json.loads(html.unescape(found.group(1)))
            return report
    raise AssertionError(f"the page's self-test wrote nothing in {DUMP_ATTEMPTS} loads; DOM tail: {dom[-2000:]}")


def _wait_for_previews(repo: JobRepository, job_ids: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [repo.get(job_id) for job_id in job_ids]
        if all(job is not None and job.previews is not None for job in jobs):
            return
        time.sleep(0.5)
    raise AssertionError(f"no previews within {timeout}s: {[repo.get(j) for j in job_ids]}")


def test_gallery_posters_load_and_previews_animate_in_chromium(running_stack, capsys, tmp_path):  # noqa: F811
    chromium()  # before any work: a missing browser is the first thing to say
    image = tmp_path / "stripes.png"
    image.write_bytes(detailed_png())  # a flat picture would make a still video, and a still preview
    succeeded = []
    for key, prompt in (("incoming/gallery/a.png", "waves roll in"), ("incoming/gallery/b.png", "gulls [sim:poster]")):
        code, out, _ = run(capsys, "submit", str(image), "--prompt", prompt, "--key", key, "--wait", "--timeout", "60",
                           "--json")  # fmt: skip
        assert code == 0, out
        succeeded.append(cli_json(out)["job"]["job_id"])
    code, out, _ = run(capsys, "submit", str(image), "--prompt", "[sim:fail] none", "--key", "incoming/gallery/c.png",
                       "--wait", "--timeout", "60", "--json")  # fmt: skip
    failed = cli_json(out)["job"]["job_id"]
    _wait_for_previews(JobRepository(running_stack.outputs["JobsTableName"]), succeeded)

    code, out, _ = run(capsys, "fetch", succeeded[0], "--out", str(tmp_path / "fetched"), "--json")
    files = cli_json(out)
    assert Path(files["frame"]).read_bytes()[:3] == b"\xff\xd8\xff"  # i2v fetch brings the previews too
    assert Path(files["preview"]).read_bytes()[8:12] == b"WEBP"
    code, out, _ = run(capsys, "status", succeeded[0])
    assert "previews: s3://" in out

    out_dir = tmp_path / "gallery"
    code, out, _ = run(capsys, "gallery", "--out", str(out_dir), "--no-open", "--json")
    assert code == 0, out
    page = Path(cli_json(out)["page"])
    assert page == out_dir / "index.html"
    text = page.read_text()
    assert "waves roll in" in text
    assert "pixverse-v5.5-i2v" in text
    assert "X-Amz-Signature" not in cli_json(out).__repr__()  # the CLI prints no presigned link

    with serving(out_dir) as base:
        report = selftest_report(f"{base}/index.html?selftest=1", tmp_path / "chromium")
    assert report["done"] is True
    cards = {card["job"]: card for card in report["cards"]}
    for job_id in succeeded:
        card = cards[job_id]
        assert card["status"] == "succeeded"
        assert card["poster"] is True, card
        assert card["preview"] is True, card
        assert card["animated"] is True, card
        assert card["frameCount"] > 1, card
    assert cards[failed]["poster"] is None  # no video, no picture: the card says why instead
    assert cards[failed]["preview"] is None


def test_the_self_test_reports_a_broken_preview(tmp_path):
    """The check can fail: a preview that is a still image, and a poster that is not there, are reported."""
    from PIL import Image

    from i2v.domain.record import JobRecord, SourceRef
    from i2v_cli.gallery import Card, page_html

    media = tmp_path / "media"
    media.mkdir()
    Image.new("RGB", (32, 18), (200, 100, 50)).save(media / "still.webp", "WEBP")
    job = JobRecord(job_id="f" * 32, status="succeeded", source=SourceRef(bucket="b", key="k"), model="m",
                    created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z")  # fmt: skip
    (tmp_path / "index.html").write_text(page_html([Card(job, "media/missing.jpg", "media/still.webp", None)], "t"))
    with serving(tmp_path) as base:
        report = selftest_report(f"{base}/index.html?selftest=1", tmp_path / "chromium")
    (card,) = report["cards"]
    assert card["poster"] is False
    assert card["preview"] is True
    assert card["animated"] is False
    assert card["frameCount"] == 1


def test_gallery_opens_the_page_in_the_browser_unless_told_not_to(running_stack, capsys, tmp_path, monkeypatch):  # noqa: F811
    from i2v_cli import gallery

    opened: list[str] = []
    monkeypatch.setattr(gallery.webbrowser, "open", opened.append)
    code, out, _ = run(capsys, "gallery", "--out", str(tmp_path / "g"), "--limit", "5")
    assert code == 0, out
    assert opened == [(tmp_path / "g" / "index.html").resolve().as_uri()]
    assert "gallery of" in out
    run(capsys, "gallery", "--out", str(tmp_path / "g2"), "--no-open")
    assert len(opened) == 1
