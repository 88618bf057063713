"""Per-job settings: model choice, layering, metadata text, end frames, and messages naming model/field/values."""

from typing import Any

import pytest

from i2v.domain.settings import (
    InvalidSettingsError,
    JobSettings,
    check_configured_settings,
    decode_metadata_value,
    resolve_settings,
)

SEED_MAX = 2_147_483_647
DEFAULT_MODEL = "pixverse-v5.5-i2v"
DEFAULTS = {"prompt": "gentle motion", "quality": "540p", "style": "none"}


def resolve(metadata: dict[str, str], key: str = "cat.jpg", presets: Any = None, defaults: Any = None) -> JobSettings:
    return resolve_settings(metadata, key, presets or {}, DEFAULTS if defaults is None else defaults, DEFAULT_MODEL)


def field(job: JobSettings, name: str) -> Any:
    return getattr(job.settings, name)


def test_deployment_model_and_its_defaults_apply() -> None:
    job = resolve({})
    assert job.model_id == DEFAULT_MODEL
    assert job.as_record() == {
        "prompt": "gentle motion",
        "negative_prompt": "",
        "duration": "5",
        "aspect_ratio": "16:9",
        "quality": "540p",
        "style": "none",
        "thinking_type": "auto",
        "generate_audio_switch": False,
        "generate_multi_clip_switch": False,
    }
    assert job.time_class() == {"quality": "540p", "duration": "5"}


def test_metadata_beats_preset_beats_defaults() -> None:
    presets = {"anime/": {"style": "anime", "quality": "720p"}, "anime/tall/": {"aspect_ratio": "9:16"}}
    metadata = {"quality": "360p", "prompt": "she smiles", "unrelated": "kept out"}
    job = resolve(metadata, "anime/tall/cat.png", presets)
    assert field(job, "quality") == "360p"
    assert field(job, "prompt") == "she smiles"
    assert field(job, "aspect_ratio") == "9:16"  # the longest matching preset wins
    assert field(job, "style") == "none"  # the shorter preset does not merge in
    assert field(resolve({}, "anime/cat.png", presets), "style") == "anime"


def test_metadata_chooses_the_model_and_its_own_defaults_apply() -> None:
    job = resolve({"model": "wan2.6-i2v", "duration": "10"})
    assert job.model_id == "wan2.6-i2v"
    # pixverse defaults (quality, style) are not carried over; the default prompt is.
    assert job.as_record()["duration"] == 10
    assert job.as_record()["resolution"] == "1080P"
    assert job.as_record()["prompt"] == "gentle motion"
    assert "quality" not in job.as_record()


def test_a_preset_can_choose_the_model_and_metadata_can_override_it() -> None:
    presets = {"veo/": {"model": "veo-3.1-fast-generate-001", "aspectRatio": "9:16"}}
    job = resolve({}, "veo/cat.png", presets)
    assert job.model_id == "veo-3.1-fast-generate-001"
    assert field(job, "aspectRatio") == "9:16"
    other = resolve({"model": "kling-v2-6"}, "veo/cat.png", presets)
    assert other.model_id == "kling-v2-6"  # the preset's veo settings stay with veo


def test_unknown_model_is_rejected_naming_the_catalog() -> None:
    with pytest.raises(InvalidSettingsError) as error:
        resolve({"model": "sora-9"})
    assert "sora-9" in str(error.value)
    assert "wan2.6-i2v" in str(error.value)
    assert "model" in str(error.value)


def test_a_setting_of_another_model_is_rejected_naming_the_models_settings() -> None:
    with pytest.raises(InvalidSettingsError) as error:
        resolve({"model": "kling-v2-6", "quality": "720p"})
    message = str(error.value)
    assert "kling-v2-6" in message
    assert "quality" in message
    assert "cfg_scale" in message


@pytest.mark.parametrize(
    ("metadata", "name", "accepted"),
    [
        ({"quality": "4k"}, "quality", '"1080p"'),
        ({"duration": "7"}, "duration", '"8"'),
        ({"aspect_ratio": "21:9"}, "aspect_ratio", '"16:9"'),
        ({"style": "oil"}, "style", '"cyberpunk"'),
        ({"thinking_type": "maybe"}, "thinking_type", '"auto"'),
        ({"seed": "-1"}, "seed", str(SEED_MAX)),
        ({"seed": str(SEED_MAX + 1)}, "seed", str(SEED_MAX)),
        ({"generate_audio_switch": "perhaps"}, "generate_audio_switch", "true or false"),
        ({"prompt": "   "}, "prompt", "non-empty text"),
        ({"model": "wan2.6-i2v", "resolution": "720p"}, "resolution", '"720P", "1080P"'),
        ({"model": "Minimax-Hailuo-2.3-Fast", "duration": "10", "resolution": "1080P"}, "resolution", '"768P"'),
    ],
)
def test_invalid_settings_name_the_model_field_and_accepted_values(
    metadata: dict[str, str], name: str, accepted: str
) -> None:
    with pytest.raises(InvalidSettingsError) as caught:
        resolve(metadata)
    message = str(caught.value)
    assert name in message
    assert accepted in message
    assert metadata.get("model", DEFAULT_MODEL) in message


def test_ten_seconds_is_not_available_at_1080p() -> None:
    with pytest.raises(InvalidSettingsError, match=r"1080p"):
        resolve({"duration": "10", "quality": "1080p"})
    assert field(resolve({"duration": "10", "quality": "720p"}), "duration") == "10"
    assert field(resolve({"duration": "8", "quality": "1080p"}), "duration") == "8"


def test_prompt_is_required_when_no_default_gives_one() -> None:
    with pytest.raises(InvalidSettingsError, match=r"prompt"):
        resolve({}, defaults={"prompt": ""})


def test_seed_bounds_inclusive_and_text_forms() -> None:
    assert field(resolve({"seed": "0"}), "seed") == 0
    assert field(resolve({"seed": str(SEED_MAX)}), "seed") == SEED_MAX


def test_metadata_keys_with_hyphens_case_and_booleans() -> None:
    job = resolve({"negative-prompt": "blur", "Generate-Audio-Switch": "yes", "generate_multi_clip_switch": "0"})
    assert field(job, "negative_prompt") == "blur"
    assert field(job, "generate_audio_switch") is True
    assert field(job, "generate_multi_clip_switch") is False


def test_non_ascii_metadata_is_decoded_from_rfc2047() -> None:
    assert decode_metadata_value("=?UTF-8?B?w7FhbmR1IGJhaWxhIPCfjok=?=") == "ñandu baila 🎉"
    assert decode_metadata_value("plain text") == "plain text"
    assert field(resolve({"prompt": "=?UTF-8?B?w7FhbmR1IGJhaWxhIPCfjok=?="}), "prompt") == "ñandu baila 🎉"


def test_end_frame_for_a_model_that_takes_one() -> None:
    job = resolve({"model": "kling-v3-image-to-video", "end-frame": "end-frames/last.png"})
    assert job.end_frame_key == "end-frames/last.png"


def test_end_frame_for_a_model_without_one_is_rejected_naming_the_models_that_have_one() -> None:
    with pytest.raises(InvalidSettingsError) as error:
        resolve({"end_frame": "end-frames/last.png"})
    message = str(error.value)
    assert DEFAULT_MODEL in message
    assert "end_frame" in message
    assert "kling-v3-image-to-video" in message


def test_configured_defaults_and_presets_are_checked_against_their_models() -> None:
    check_configured_settings(DEFAULT_MODEL, {"prompt": ""}, {"wan/": {"model": "wan2.6-i2v", "duration": 15}})
    with pytest.raises(InvalidSettingsError, match=r"prefix_presets\['wan/'\].*duration"):
        check_configured_settings(DEFAULT_MODEL, {}, {"wan/": {"model": "wan2.6-i2v", "duration": "15"}})
    with pytest.raises(InvalidSettingsError, match=r"quality"):
        check_configured_settings(DEFAULT_MODEL, {"quality": "4k"}, {})
    with pytest.raises(InvalidSettingsError, match=r"unknown model"):
        check_configured_settings("nope", {}, {})


def test_preset_names_match_the_models_fields_as_metadata_names_do() -> None:
    """`aspect_ratio` in a preset is veo's `aspectRatio`, as it would be in metadata (issue 28, stumble 9)."""
    job = resolve_settings(
        {}, "tall/a.png", {"tall/": {"aspect_ratio": "9:16"}}, {"prompt": "p"}, "veo-3.1-fast-generate-001"
    )
    assert field(job, "aspectRatio") == "9:16"
