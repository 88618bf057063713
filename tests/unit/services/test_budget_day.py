"""The daily cap counts the UTC day (issue 24, gap): shown without replacing the clock.

Every other budget test replaces the service's day; here the process runs in a time zone far from UTC, picked so
that its local date differs from the UTC date right now, and the budget counter's day must still be the UTC date.
Fails if the code takes the day from local time (datetime.now(), date.today(), time.localtime()).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from i2v.services.submit import SubmitOutcome
from support.fakes import Fakes
from support.submit_service import submit_env, submit_service, upload


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """UTC+14 in the UTC afternoon (already tomorrow there), UTC-12 in the UTC morning (still yesterday)."""
    zone = "Etc/GMT-14" if datetime.now(UTC).hour >= 12 else "Etc/GMT+12"  # POSIX signs: GMT-14 is UTC+14
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        yield zone
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_budget_day_is_the_utc_day(fakes: Fakes, far_from_utc: str) -> None:
    assert datetime.now().date() != datetime.now(UTC).date(), far_from_utc  # the zone does differ right now
    service = submit_service(fakes, env=submit_env(DAILY_SUBMISSION_CAP="5"))

    assert service.submit_source(upload(fakes)).outcome == SubmitOutcome.SUBMITTED

    assert fakes.repo.budget == {datetime.now(UTC).strftime("%Y-%m-%d"): 1}
