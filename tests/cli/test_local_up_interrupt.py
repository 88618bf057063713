"""Ctrl-C on `i2v local up` stops it quietly (issue 28, stumble 1).

A terminal's Ctrl-C sends SIGINT to the whole foreground process group. The CDK's jsii node process used to be in
that group: it died first, and jsii's exit hook then printed a BrokenPipeError traceback on every Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

READY = "(Ctrl-C stops)"


def test_ctrl_c_on_local_up_exits_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from i2v_cli.app import main; main()", "local", "up"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so the signal below reaches it as a terminal's would
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if READY in line:
                break
        assert any(READY in line for line in seen), "".join(seen)

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: every process of the foreground group
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = "".join(seen) + rest
    assert process.returncode in (0, 130), output
    assert "Traceback" not in output, output
    assert "Exception ignored" not in output, output
