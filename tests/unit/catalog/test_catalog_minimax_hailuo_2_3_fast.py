"""Minimax-Hailuo-2.3-Fast: first_frame_image, integer durations, 1080P only at 6 s."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "Minimax-Hailuo-2.3-Fast"
EXAMPLE = {
    "prompt": "A serene ocean scene with waves under a pink sunset [Pan Right]",
    "first_frame_image": "https://example.com/first.jpg",
    "duration": 6,
    "resolution": "768P",
    "prompt_optimizer": True,
    "fast_pretreatment": False,
}


def test_documented_example_with_an_image_is_accepted() -> None:
    assert validate_payload(MODEL, EXAMPLE).time_class() == {"resolution": "768P", "duration": "6"}
    validate_payload(MODEL, {**EXAMPLE, "resolution": "1080P"})


def test_1080p_only_at_six_seconds() -> None:
    with pytest.raises(PayloadError) as error:
        validate_payload(MODEL, {**EXAMPLE, "resolution": "1080P", "duration": 10})
    message = str(error.value)
    assert MODEL in message
    assert "resolution" in message
    assert "duration" in message
    assert '"512P", "768P"' in message


def test_duration_is_six_or_ten() -> None:
    with pytest.raises(PayloadError, match=r"duration.*6, 10"):
        validate_payload(MODEL, {**EXAMPLE, "duration": 8})
