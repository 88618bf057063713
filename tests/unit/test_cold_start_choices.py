"""What the handler modules do at import to start fast (benchmarks/coldstart.py measures it): keep it true.

Each check imports a handler in a fresh interpreter with the cold-start benchmark's environment, which is the
deployed default (tests/infrastructure/test_infra_stack.py holds the two to the template).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from benchmarks.coldstart import _environment

HANDLERS = ("submit", "poll", "complete", "fail", "webhook", "sweeper")
# What a handler needs beyond the cold-start benchmark's environment (the benchmark does not measure it).
EXTRA_ENV = {"sweeper": {"SWEEP_SUBMIT_MESSAGE_SECONDS": "4500"}}


def _after_import(handler: str, report: str, **env: str) -> Any:
    code = f"import gc, json, sys\nimport i2v.handlers.{handler} as handler\nprint(json.dumps({report}))"
    output = subprocess.run(
        [sys.executable, "-c", code], env={**_environment(), **env}, capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("handler", HANDLERS)
def test_a_handler_initialises_without_the_collector_then_turns_it_back_on(handler: str) -> None:
    report = "[gc.isenabled(), gc.get_freeze_count() > 1000]"
    assert _after_import(handler, report, **EXTRA_ENV.get(handler, {})) == [True, True]


def test_by_default_the_xray_sdk_is_not_even_imported() -> None:
    report = "[type(handler.tracer).__name__, sorted(m for m in sys.modules if m.startswith('aws_xray_sdk'))]"
    assert _after_import("submit", report) == ["UntracedHandlers", []]


def test_with_xray_sdk_tracing_powertools_traces_the_libraries_we_call_with() -> None:
    report = "[type(handler.tracer).__name__, sorted(sys.modules['aws_xray_sdk.core.patcher']._PATCHED_MODULES)]"
    traced = _after_import("submit", report, POWERTOOLS_TRACE_DISABLED="false")
    assert traced == ["Tracer", ["botocore", "requests"]]


# Each function's own service module; the composition root (i2v.handlers.wiring) builds every one of them, and
# its builders import their own code, so that a function's cold start loads its own service alone.
FUNCTION_SERVICES = {
    "submit": "i2v.services.submit",
    "poll": "i2v.services.poll",
    "watch": "i2v.services.watch",
    "complete": "i2v.services.complete",
    "fail": "i2v.services.failure",
    "sweeper": "i2v.services.sweeper",
    "previews": "i2v.services.previews",
    "webhook": "i2v.services.webhooks",
}
USES = {"sweeper": {"i2v.services.failure"}}  # the sweeper records the jobs it ends through the failure service


@pytest.mark.parametrize("handler", [h for h in HANDLERS if h != "webhook"])  # webhook builds on its first event
def test_a_cold_start_loads_its_own_function_alone(handler: str) -> None:
    report = "sorted(m for m in sys.modules if m.startswith(('i2v.services.', 'i2v.adapters.media')))"
    loaded = set(_after_import(handler, report, **EXTRA_ENV.get(handler, {})))
    others = set(FUNCTION_SERVICES.values()) - {FUNCTION_SERVICES[handler]} - USES.get(handler, set())
    assert FUNCTION_SERVICES[handler] in loaded
    assert not loaded & (others | {"i2v.adapters.media"})
