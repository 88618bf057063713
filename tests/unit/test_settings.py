import pytest
from pydantic import ValidationError

from i2v.domain.settings import (
    SEED_MAX,
    GenerationSettings,
    InvalidSettingsError,
    decode_metadata_value,
    resolve_settings,
)

DEFAULTS = {"prompt": "gentle motion", "quality": "540p"}


def test_seed_defaults_apply():
    settings = GenerationSettings(prompt="wave")
    assert settings.model_dump() == {
        "prompt": "wave",
        "negative_prompt": "",
        "duration": "5",
        "aspect_ratio": "16:9",
        "quality": "540p",
        "style": "none",
        "thinking_type": "auto",
        "generate_audio_switch": False,
        "generate_multi_clip_switch": False,
        "seed": None,
    }


def test_payload_omits_unset_seed_and_carries_image_url():
    payload = GenerationSettings(prompt="wave").to_payload("https://example.com/a.jpg")
    assert payload["image_url"] == "https://example.com/a.jpg"
    assert "seed" not in payload
    assert GenerationSettings(prompt="wave", seed=7).to_payload("u")["seed"] == 7


def test_metadata_beats_preset_beats_defaults():
    presets = {"anime/": {"style": "anime", "quality": "720p"}, "anime/tall/": {"aspect_ratio": "9:16"}}
    metadata = {"quality": "360p", "prompt": "she smiles", "unrelated": "kept out"}
    settings = resolve_settings(metadata, "anime/tall/cat.png", presets, DEFAULTS)
    assert settings.quality == "360p"
    assert settings.prompt == "she smiles"
    assert settings.aspect_ratio == "9:16"  # the longest matching preset wins
    assert settings.style == "none"  # the shorter preset does not merge in
    assert resolve_settings({}, "anime/cat.png", presets, DEFAULTS).style == "anime"


@pytest.mark.parametrize(
    ("metadata", "field", "hint"),
    [
        ({"quality": "4k"}, "quality", "'1080p'"),
        ({"duration": "7"}, "duration", "'8'"),
        ({"aspect_ratio": "21:9"}, "aspect_ratio", "'16:9'"),
        ({"style": "oil"}, "style", "'cyberpunk'"),
        ({"thinking_type": "maybe"}, "thinking_type", "'auto'"),
        ({"seed": "-1"}, "seed", str(SEED_MAX)),
        ({"seed": str(SEED_MAX + 1)}, "seed", str(SEED_MAX)),
        ({"generate_audio_switch": "perhaps"}, "generate_audio_switch", "true or false"),
        ({"prompt": "   "}, "prompt", "at least 1"),
    ],
)
def test_invalid_settings_name_the_field_and_allowed_values(metadata, field, hint):
    with pytest.raises(InvalidSettingsError) as caught:
        resolve_settings(metadata, "cat.jpg", {}, DEFAULTS)
    assert field in str(caught.value)
    assert hint in str(caught.value)


def test_ten_seconds_is_not_available_at_1080p():
    with pytest.raises(InvalidSettingsError, match="1080p"):
        resolve_settings({"duration": "10", "quality": "1080p"}, "cat.jpg", {}, DEFAULTS)
    assert resolve_settings({"duration": "10", "quality": "720p"}, "cat.jpg", {}, DEFAULTS).duration == "10"
    assert resolve_settings({"duration": "8", "quality": "1080p"}, "cat.jpg", {}, DEFAULTS).duration == "8"


def test_prompt_is_required_when_no_default_gives_one():
    with pytest.raises(InvalidSettingsError, match="prompt"):
        resolve_settings({}, "cat.jpg", {}, {"prompt": ""})


def test_seed_bounds_inclusive_and_text_forms():
    assert resolve_settings({"seed": "0"}, "k", {}, DEFAULTS).seed == 0
    assert resolve_settings({"seed": str(SEED_MAX)}, "k", {}, DEFAULTS).seed == SEED_MAX
    with pytest.raises(ValidationError):
        GenerationSettings(prompt="p", seed=True)  # type: ignore[arg-type]


def test_metadata_keys_with_hyphens_and_booleans():
    settings = resolve_settings(
        {"negative-prompt": "blur", "generate-audio-switch": "yes", "generate_multi_clip_switch": "0"},
        "k",
        {},
        DEFAULTS,
    )
    assert settings.negative_prompt == "blur"
    assert settings.generate_audio_switch is True
    assert settings.generate_multi_clip_switch is False


def test_non_ascii_metadata_is_decoded_from_rfc2047():
    assert decode_metadata_value("=?UTF-8?B?w7FhbmR1IGJhaWxhIPCfjok=?=") == "ñandu baila 🎉"
    assert decode_metadata_value("plain text") == "plain text"
    settings = resolve_settings({"prompt": "=?UTF-8?B?w7FhbmR1IGJhaWxhIPCfjok=?="}, "k", {}, DEFAULTS)
    assert settings.prompt == "ñandu baila 🎉"


def test_integer_duration_accepted_as_seed_string():
    assert GenerationSettings(prompt="p", duration=8).duration == "8"  # type: ignore[arg-type]
