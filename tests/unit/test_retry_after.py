"""Retry-After in both forms RFC 9110 allows (issue 11, item 8): delay-seconds and an HTTP-date."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from i2v.adapters.gmi import parse_retry_after

NOW = datetime(2026, 3, 14, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", NOW.timestamp)


def test_delay_seconds() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after(" 0 ") == 0


@pytest.mark.usefixtures("frozen_now")
def test_an_http_date_is_the_time_left_until_it() -> None:
    in_two_minutes = format_datetime(NOW.replace(minute=2), usegmt=True)  # "Sat, 14 Mar 2026 12:02:00 GMT"
    assert parse_retry_after(in_two_minutes) == 120
    assert parse_retry_after(format_datetime(NOW.replace(hour=11), usegmt=True)) == 0  # already past


@pytest.mark.parametrize("value", [None, "", "soon", "-5"])
def test_unreadable_or_missing_means_no_hint(value: str | None) -> None:
    assert parse_retry_after(value) is None
