"""Scenario fixtures: a recognisable GMI API key, and the leak guard around every scenario (scenario 25).

Every test in tests/scenarios runs under `leak_guard` (autouse here; the fixture is tests/fixtures/leak_guard.py,
the collection and scan support/leak_guard.py). It captures what the functions write (stdout/stderr: their
JSON logs and EMF metrics), the log records, and, for every local stack the test starts (through
`local_stack_factory` / `local_stack` / `pipeline`, `watched_stack`, or `leak_guard.watch(stack)` plus
`collect_stack`), every item of the jobs table, every event delivered on the pipeline's bus, every message
left on the DLQ and the submit queue, and every Step Functions execution with its whole history. At the end
of the test it fails if any of them contains the GMI API key, a presigned-URL signature seen during the
test, or a signed-URL marker (X-Amz-Signature, X-Amz-Credential, X-Goog-Signature, ...) that is not redacted,
and if it collected nothing at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fixtures.leak_guard import CapturingLeakGuard
from i2v_local.simulator import GmiSimulator, Timing
from i2v_local.stack import LocalStack

# Recognisable, so a leak is unmistakable; long enough for the functions' redaction (>= 6 chars).
SCENARIO_API_KEY = "sk-i2v-scenario-CANARY-5f0c9e1ab7d2"


@pytest.fixture(scope="module")
def local_gmi() -> Iterator[GmiSimulator]:
    """Overrides the shared simulator: same zero timing, but the scenarios' recognisable API key (the local
    stack reads the key from the simulator, so the secret in Secrets Manager is this one)."""
    with GmiSimulator(timing=Timing.zero(), api_key=SCENARIO_API_KEY) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _every_scenario_is_leak_guarded(leak_guard: CapturingLeakGuard) -> CapturingLeakGuard:
    """Scenario 25, for every scenario: no API key and no presigned signature in anything written down."""
    leak_guard.add_secret(SCENARIO_API_KEY)
    return leak_guard


@pytest.fixture
def scenario_api_key() -> str:
    return SCENARIO_API_KEY


@pytest.fixture
def watched_stack(
    cdk_template: dict[str, Any], leak_guard: CapturingLeakGuard
) -> Callable[..., contextlib.AbstractContextManager[LocalStack]]:
    """`with watched_stack(settings) as stack:` a stack built outside the factory (e.g. on its own simulator),
    still scanned by the leak guard before it stops."""

    @contextlib.contextmanager
    def open_stack(settings: Any) -> Iterator[LocalStack]:
        with LocalStack(cdk_template, settings) as stack, leak_guard.watching(stack):
            yield stack

    return open_stack
