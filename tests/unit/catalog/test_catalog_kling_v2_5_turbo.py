"""kling-v2-5-turbo: string durations, mode pro only, no audio."""

import pytest

from i2v.domain import catalog
from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "kling-v2-5-turbo"
EXAMPLE = {
    "prompt": "A majestic eagle soaring through a mountain landscape at sunset",
    "image": "https://example.com/image.jpg",
    "duration": "5",
    "negative_prompt": "blurry, low quality, distorted",
    "mode": "pro",
    "cfg_scale": 0.5,
}


def test_documented_example_is_accepted() -> None:
    validate_payload(MODEL, EXAMPLE)
    assert catalog.get(MODEL).AUDIO_FIELD is None


def test_mode_is_pro_only() -> None:
    with pytest.raises(PayloadError, match=r'mode.*"pro"'):
        validate_payload(MODEL, {**EXAMPLE, "mode": "std"})
