"""pixverse-v6-i2v: `image` (not image_url), integer duration 1-15."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "pixverse-v6-i2v"
EXAMPLE = {
    "prompt": "A cinematic shot of a futuristic city at sunset.",
    "image": "https://example.com/start_frame.jpg",
    "duration": 5,
    "quality": "1080p",
    "generate_audio_switch": True,
}


def test_documented_example_is_accepted() -> None:
    assert validate_payload(MODEL, EXAMPLE).time_class() == {"quality": "1080p", "duration": "5"}


@pytest.mark.parametrize("duration", [0, 16, "5"])
def test_duration_is_an_integer_from_1_to_15(duration: object) -> None:
    with pytest.raises(PayloadError, match=r"duration.*integer 1-15"):
        validate_payload(MODEL, {**EXAMPLE, "duration": duration})


def test_image_url_is_the_other_pixverse_spelling() -> None:
    with pytest.raises(PayloadError, match=r"image"):
        validate_payload(MODEL, {"image_url": "https://e/a.png", "prompt": "p"})


def test_unset_quality_is_left_to_gmi() -> None:
    assert "quality" not in validate_payload(MODEL, {"image": "https://e/a", "prompt": "p"}).payload("u")
