"""wan2.6-i2v: img_url, integer durations 5/10/15, upper-case resolutions."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "wan2.6-i2v"
EXAMPLE = {
    "prompt": "Slow cinematic pan around a futuristic tower at sunset with neon accents",
    "img_url": "https://example.com/reference-image.jpg",
    "audio_url": None,
    "negative_prompt": "blurry, low quality, distorted",
    "resolution": "1080P",
    "duration": 10,
    "prompt_extend": True,
    "shot_type": "single",
    "audio": True,
    "watermark": False,
    "seed": 987654321,
}


def test_documented_example_is_accepted() -> None:
    assert validate_payload(MODEL, EXAMPLE).time_class() == {"resolution": "1080P", "duration": "10"}


@pytest.mark.parametrize(("field", "value"), [("duration", "10"), ("duration", 7), ("resolution", "1080p")])
def test_types_and_enums_as_documented(field: str, value: object) -> None:
    with pytest.raises(PayloadError, match=field):
        validate_payload(MODEL, {**EXAMPLE, field: value})


def test_length_limits() -> None:
    with pytest.raises(PayloadError, match=r"negative_prompt.*500"):
        validate_payload(MODEL, {**EXAMPLE, "negative_prompt": "x" * 501})
    with pytest.raises(PayloadError, match=r"prompt.*1500"):
        validate_payload(MODEL, {**EXAMPLE, "prompt": "x" * 1501})
