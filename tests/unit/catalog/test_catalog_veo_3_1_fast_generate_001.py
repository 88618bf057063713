"""veo-3.1-fast-generate-001: camelCase fields, integer durationSeconds, lastFrame end frame."""

import pytest

from i2v.domain import catalog
from i2v.domain.catalog import PayloadError, validate_payload

MODEL = "veo-3.1-fast-generate-001"
EXAMPLE = {
    "prompt": "A majestic eagle soaring through a mountain landscape at sunset",
    "image": "https://example.com/image.jpg",
    "lastFrame": "https://example.com/lastFrame.jpg",
    "durationSeconds": 6,
    "aspectRatio": "16:9",
    "generateAudio": True,
    "negativePrompt": "blurry, low quality, distorted",
    "personGeneration": "allow_all",
    "seed": 0,
    "resolution": "1080p",
}


def test_documented_example_is_accepted() -> None:
    settings = validate_payload(MODEL, EXAMPLE)
    assert settings.duration_seconds() == 6
    assert settings.video_aspect() == "16:9"
    assert settings.time_class() == {"resolution": "1080p", "durationSeconds": "6"}


def test_veo3_string_duration_is_refused_here() -> None:
    with pytest.raises(PayloadError, match=r"durationSeconds.*4, 6, 8"):
        validate_payload(MODEL, {**EXAMPLE, "durationSeconds": "6"})


def test_metadata_keys_find_camel_case_fields() -> None:
    model = catalog.get(MODEL)
    assert model.field_for("durationseconds") == "durationSeconds"
    assert model.field_for("x-amz-meta-aspect-ratio") == "aspectRatio"
    assert model.from_text("durationSeconds", "8") == 8
    assert model.from_text("generateAudio", "false") is False
