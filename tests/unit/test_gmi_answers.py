"""Every answer shape GMI documents, read in one place."""

from __future__ import annotations

from typing import Any

import pytest

from i2v.domain.gmi_answers import GmiStatus, failure_reason, parse_status, poster_url, video_url

VIDEO = "https://storage.googleapis.com/b/org/id/sample_0.mp4?X-Goog-Signature=aa"


@pytest.mark.parametrize("status", [s.value for s in GmiStatus])
def test_all_seven_statuses_are_known(status: str) -> None:
    assert parse_status(status) == GmiStatus(status)


@pytest.mark.parametrize(("text", "expected"), [("canceled", GmiStatus.CANCELLED), (" Success ", GmiStatus.SUCCESS)])
def test_other_spellings(text: str, expected: GmiStatus) -> None:
    assert parse_status(text) == expected


@pytest.mark.parametrize("text", ["paused", "", None, "completed"])
def test_undocumented_statuses_are_unknown(text: str | None) -> None:
    assert parse_status(text) is None


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ({"video_url": VIDEO, "thumbnail_image_url": VIDEO}, VIDEO),
        ({"media_urls": [{"id": "0", "url": VIDEO}, {"id": "1", "url": "https://x/1.mp4"}]}, VIDEO),
        ([{"id": "0", "url": VIDEO}], VIDEO),  # a bare list: read on purpose (see gmi_answers)
        ([{"video_url": VIDEO}], VIDEO),
        ({"video_url": "", "media_urls": [{"url": VIDEO}]}, VIDEO),
        ({"url": VIDEO}, None),  # a bare `url` key is only read inside a list item
        ({"media_urls": []}, None),
        ({"media_urls": ["just a string"]}, None),
        ([], None),
        (None, None),
        ({}, None),
        ("a string", None),
    ],
)
def test_video_url_shapes(outcome: Any, expected: str | None) -> None:
    assert video_url(outcome) == expected


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            {"video_url": VIDEO, "thumbnail_image_url": "https://storage.googleapis.com/b/t.jpg"},
            "https://storage.googleapis.com/b/t.jpg",
        ),
        ({"video_url": VIDEO, "thumbnail_image_url": VIDEO.replace("aa", "bb")}, None),  # the video again, re-signed
        ({"video_url": VIDEO}, None),
        ({"media_urls": [{"url": VIDEO}]}, None),
    ],
)
def test_poster_only_when_it_is_not_the_video(outcome: Any, expected: str | None) -> None:
    assert poster_url(outcome) == expected


@pytest.mark.parametrize(
    ("outcome", "error", "message", "expected"),
    [
        ({"error": "content policy"}, None, None, "content policy"),
        ({"error": {"code": "E42", "message": "no GPU"}}, None, None, "no GPU (E42)"),
        ({"error": {"message": "no GPU"}}, "ignored", None, "no GPU"),
        ({"error": {"weird": 1}}, None, None, '{"weird": 1}'),
        (None, "top-level", "msg", "top-level"),
        (None, None, "only a message", "only a message"),
        ([{"error": "in a list"}], None, None, "in a list"),
        (None, {"detail": "nested"}, None, "nested"),
        (None, None, None, None),
        ({}, "", "", None),
    ],
)
def test_failure_reason_sources(outcome: Any, error: Any, message: Any, expected: str | None) -> None:
    assert failure_reason(outcome, error, message) == expected
