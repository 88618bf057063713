"""kling-3.0-turbo-i2v: first_frame, resolution 720p/1080p, string durations."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "kling-3.0-turbo-i2v"
EXAMPLE = {
    "first_frame": "https://example.com/start_frame.jpg",
    "prompt": "A cinematic shot of ...",
    "resolution": "720p",
    "duration": "5",
}


def test_example_is_accepted_and_classed_by_resolution_and_duration() -> None:
    assert validate_payload(MODEL, EXAMPLE).time_class() == {"resolution": "720p", "duration": "5"}


def test_resolution_is_lower_case_p() -> None:
    with pytest.raises(PayloadError, match=r'resolution.*"720p", "1080p"'):
        validate_payload(MODEL, {**EXAMPLE, "resolution": "720P"})
