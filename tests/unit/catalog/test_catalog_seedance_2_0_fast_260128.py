"""seedance-2-0-fast-260128: first_frame/last_frame, ratio with "adaptive", duration 4-15."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "seedance-2-0-fast-260128"
EXAMPLE = {
    "prompt": "...",
    "first_frame": "https://example.com/first.jpg",
    "last_frame": "https://example.com/last.jpg",
    "duration": 5,
    "resolution": "720p",
    "ratio": "adaptive",
    "generate_audio": True,
    "watermark": False,
}


def test_example_is_accepted_and_adaptive_follows_the_image() -> None:
    settings = validate_payload(MODEL, EXAMPLE)
    assert settings.video_aspect() is None
    assert validate_payload(MODEL, {**EXAMPLE, "ratio": "21:9"}).video_aspect() == "21:9"


@pytest.mark.parametrize("duration", [3, 16])
def test_duration_range(duration: int) -> None:
    with pytest.raises(PayloadError, match=r"duration.*integer 4-15"):
        validate_payload(MODEL, {**EXAMPLE, "duration": duration})


def test_reference_arrays_are_not_accepted() -> None:
    with pytest.raises(PayloadError, match=r"reference_images"):
        validate_payload(MODEL, {**EXAMPLE, "reference_images": ["https://e/r.png"]})
