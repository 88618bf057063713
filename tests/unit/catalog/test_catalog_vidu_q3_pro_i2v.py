"""vidu-q3-pro-i2v: `images` is one string, integer duration 1-16, fixed 1080p."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "vidu-q3-pro-i2v"
EXAMPLE = {
    "prompt": "A cinematic drone shot moving forward from this scene",
    "images": "https://example.com/start_frame.jpg",
    "duration": 5,
    "audio": True,
    "seed": 42,
}


def test_documented_example_is_accepted() -> None:
    settings = validate_payload(MODEL, EXAMPLE)
    assert settings.payload("https://e/a.png")["images"] == "https://e/a.png"
    assert settings.time_class() == {"duration": "5"}


def test_a_list_is_not_the_documented_shape() -> None:
    with pytest.raises(PayloadError, match=r"images"):
        validate_payload(MODEL, {**EXAMPLE, "images": ["https://example.com/a.jpg"]})


def test_duration_range() -> None:
    with pytest.raises(PayloadError, match=r"duration.*integer 1-16"):
        validate_payload(MODEL, {**EXAMPLE, "duration": 17})
