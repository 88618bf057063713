"""`i2v events` prints a line for a job event of a kind it has no line of its own for (a kind added later), rather
than failing on it: adding an event kind needs no CLI change (docs/architecture.md, "How to add an event kind")."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Literal

import pytest

from i2v_cli import events
from i2v_events.samples import sample_event
from i2v_events.v1.fields import JobDetail


class ArchivedDetail(JobDetail):
    status: Literal["archived"]


def test_a_job_event_of_a_kind_without_its_own_line_gets_the_common_one(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = sample_event("failed")["detail"]
    detail = ArchivedDetail.model_validate({**raw, "status": "archived"})
    parsed = SimpleNamespace(
        time=datetime(2026, 12, 7, 10, 15, 42, tzinfo=UTC), detail=detail, detail_type="Video Archived"
    )
    monkeypatch.setattr(events, "parse_event", lambda _event: parsed)
    line = events.event_line({"detail-type": "Video Archived"})
    assert line.startswith(f"10:15:42  archived         {detail.job_id[:8]}  {detail.source.key}")
    assert line.endswith("Video Archived")
