"""Kling-Image2Video-V2-Master: cfg_scale (not cfg.scale), optional prompt."""

import pytest

from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "Kling-Image2Video-V2-Master"
EXAMPLE = {
    "prompt": "A majestic eagle soaring through a mountain landscape at sunset",
    "image": "https://example.com/reference-image.jpg",
    "duration": "5",
    "negative_prompt": "blurry, low quality, distorted",
    "cfg_scale": 0.7,
}


def test_documented_example_is_accepted() -> None:
    validate_payload(MODEL, EXAMPLE)
    validate_payload(MODEL, {"image": "https://example.com/a.jpg"})  # prompt is optional here


def test_the_tables_dotted_spelling_is_refused() -> None:
    with pytest.raises(PayloadError, match=r"cfg.scale"):
        validate_payload(MODEL, {**EXAMPLE, "cfg.scale": 0.5})
