"""pixverse-v5.5-i2v as documented: string durations, no 10 s at 1080p."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "pixverse-v5.5-i2v"
EXAMPLE = {
    "image_url": "https://example.com/source_image.jpg",
    "prompt": "The character turns their head and smiles, cinematic lighting",
    "negative_prompt": "distorted face, static, morphing",
    "duration": "5",
    "aspect_ratio": "16:9",
    "quality": "1080p",
    "style": "none",
    "thinking_type": "auto",
    "generate_audio_switch": True,
    "generate_multi_clip_switch": True,
}


def test_documented_example_is_accepted() -> None:
    settings = validate_payload(MODEL, EXAMPLE)
    assert settings.time_class() == {"quality": "1080p", "duration": "5"}
    assert settings.video_aspect() == "16:9"


def test_ten_seconds_at_1080p_is_refused_with_what_is_accepted() -> None:
    with pytest.raises(PayloadError) as error:
        validate_payload(MODEL, {**EXAMPLE, "duration": "10"})
    message = str(error.value)
    assert MODEL in message
    assert "duration" in message
    assert '"5", "8"' in message
    assert "1080p" in message


def test_integer_duration_is_not_the_documented_type() -> None:
    with pytest.raises(PayloadError, match=r"duration"):
        validate_payload(MODEL, {**EXAMPLE, "duration": 5})


def test_seed_range() -> None:
    assert validate_payload(MODEL, {**EXAMPLE, "seed": 2147483647}).payload("u")["seed"] == 2147483647
    with pytest.raises(PayloadError, match=r"seed.*integer 0-2147483647"):
        validate_payload(MODEL, {**EXAMPLE, "seed": -1})
