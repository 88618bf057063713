"""kling-v3-image-to-video: end frame in image_tail, string durations 3-15, fixed 720p."""

import pytest

from i2v.domain import catalog
from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "kling-v3-image-to-video"
EXAMPLE = {
    "prompt": "...",
    "image": "https://example.com/start.jpg",
    "image_tail": "https://example.com/end.jpg",
    "duration": "5",
    "sound": "on",
}


def test_example_with_end_frame_is_accepted() -> None:
    settings = validate_payload(MODEL, EXAMPLE)
    assert catalog.get(MODEL).END_FRAME_FIELD == "image_tail"
    assert settings.time_class() == {"duration": "5"}
    assert catalog.get(MODEL).FIXED_RESOLUTION == "720p"


@pytest.mark.parametrize("duration", ["2", "16", 5])
def test_duration_is_a_string_from_3_to_15(duration: object) -> None:
    with pytest.raises(PayloadError, match=r'durat.*"3".*"15"'):
        validate_payload(MODEL, {**EXAMPLE, "duration": duration})


def test_end_frame_must_be_a_string() -> None:
    with pytest.raises(PayloadError, match=r"image_tail"):
        validate_payload(MODEL, {**EXAMPLE, "image_tail": 7})
