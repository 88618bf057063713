"""happyhorse1.0-i2v: first_frame + last_frame, integer duration 2-15, 720P/1080P."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "happyhorse1.0-i2v"
EXAMPLE = {
    "prompt": "Slow cinematic pan around a futuristic tower at sunset with neon accents",
    "first_frame": "https://example.com/start-frame.jpg",
    "last_frame": "https://example.com/end-frame.jpg",
    "negative_prompt": "blurry, low quality, distorted",
    "resolution": "1080P",
    "duration": 10,
    "prompt_extend": True,
    "watermark": False,
    "seed": 987654321,
}


def test_documented_example_is_accepted() -> None:
    assert validate_payload(MODEL, EXAMPLE).time_class() == {"resolution": "1080P", "duration": "10"}


def test_duration_range() -> None:
    with pytest.raises(PayloadError, match=r"duration.*integer 2-15"):
        validate_payload(MODEL, {**EXAMPLE, "duration": 1})
