"""kling-v2-6: string durations, `sound` on/off (our choice), cfg_scale 0-1."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "kling-v2-6"
EXAMPLE = {
    "prompt": "A majestic eagle soaring through a mountain landscape at sunset",
    "sound": "on",
    "image": "https://example.com/image.jpg",
    "duration": "5",
    "mode": "pro",
    "cfg_scale": 0.5,
}


def test_documented_example_is_accepted() -> None:
    assert validate_payload(MODEL, EXAMPLE).time_class() == {"duration": "5"}


def test_sound_vocabulary_is_on_off() -> None:
    with pytest.raises(PayloadError, match=r'sound.*"on", "off"'):
        validate_payload(MODEL, {**EXAMPLE, "sound": "yes"})


def test_cfg_scale_range_and_prompt_length() -> None:
    with pytest.raises(PayloadError, match=r"cfg_scale.*number 0.0-1.0|cfg_scale.*number 0-1"):
        validate_payload(MODEL, {**EXAMPLE, "cfg_scale": 1.5})
    with pytest.raises(PayloadError, match=r"prompt.*2500"):
        validate_payload(MODEL, {**EXAMPLE, "prompt": "x" * 2501})
