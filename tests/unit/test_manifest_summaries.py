"""ManifestSummaries (the DynamoDB adapter) on moto: each condition that keeps a manifest's counts right when
messages come twice or out of order (issue 27)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from i2v.adapters.manifests import ManifestSummaries
from i2v.domain.jobs import TransientError
from i2v.domain.manifest import BadLine, ManifestRef
from support.jobs_table import moto_jobs_table

REF = ManifestRef(bucket="in", key="manifests/a.jsonl", version_id="m1")


@pytest.fixture
def summaries() -> Iterator[ManifestSummaries]:
    with moto_jobs_table() as table:
        yield ManifestSummaries(table)


def test_a_chunk_is_recorded_once_and_only_as_the_next_one(summaries: ManifestSummaries) -> None:
    bad = [BadLine(line=3, reason="not valid JSON")]
    assert summaries.record_chunk(REF, 0, 100, 11, 9, bad, 1, False)
    assert not summaries.record_chunk(REF, 0, 100, 11, 9, bad, 1, False)  # delivered again
    assert not summaries.record_chunk(REF, 250, 300, 21, 10, [], 0, True)  # out of order
    assert summaries.record_chunk(REF, 100, 200, 21, 10, [], 0, True)
    summary = summaries.get(REF.manifest_id)
    assert summary is not None
    assert (summary.lines, summary.bad_total, summary.bad_lines, summary.split_done) == (
        19,
        1,
        {"3": "not valid JSON"},
        True,
    )
    assert (summary.next_offset, summary.chunk_offset, summary.next_line) == (200, 100, 21)


def test_a_line_that_ends_before_its_chunk_is_recorded_still_counts(summaries: ManifestSummaries) -> None:
    assert summaries.end_line(REF.manifest_id, 2, "rejected")
    assert not summaries.end_line(REF.manifest_id, 2, "rejected")  # counted once
    assert summaries.get(REF.manifest_id) is None  # no summary yet, only the count
    with pytest.raises(TransientError):  # a missing image's bad line waits for its chunk's record
        summaries.add_bad_line(REF.manifest_id, BadLine(line=4, reason="no image 'x'"))
    assert summaries.record_chunk(REF, 0, 100, 11, 10, [], 0, True)
    summaries.add_bad_line(REF.manifest_id, BadLine(line=4, reason="no image 'x'"))
    summaries.add_bad_line(REF.manifest_id, BadLine(line=4, reason="no image 'x'"))  # again: counted once
    summary = summaries.get(REF.manifest_id)
    assert summary is not None
    assert (summary.ended, summary.bad_total, summary.bad_lines) == (1, 1, {"4": "no image 'x'"})
    assert summaries.mark_completed(REF.manifest_id)
    assert not summaries.mark_completed(REF.manifest_id)
    summaries.mark_announced(REF.manifest_id)
    summary = summaries.get(REF.manifest_id)
    assert summary is not None
    assert summary.completed_at is not None
    assert summary.announced_at is not None
