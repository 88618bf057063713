"""Service tests on in-memory fakes of the ports (tests/support/fakes.py): no AWS, no HTTP, milliseconds."""

from __future__ import annotations

import pytest

from support.fakes import Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()
