"""Settings sidecars (issue 27, item 3): where an image's sidecar is, what its bytes may say, and its place in the
precedence metadata > sidecar > preset > defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v.domain.settings import InvalidSettingsError, JobSettings, resolve_settings
from i2v.domain.sidecar import MAX_SIDECAR_BYTES, default_sidecar_key, named_sidecar_key, parse_sidecar

DEFAULTS = {"prompt": "gentle motion", "quality": "540p"}
PRESETS = {"anime/": {"style": "anime", "quality": "720p", "duration": "8"}}
KEY = "incoming/anime/cat.json"


def resolve(metadata: dict[str, str], sidecar: dict[str, Any] | None, key: str = "anime/cat.png") -> JobSettings:
    return resolve_settings(
        metadata, key, PRESETS, DEFAULTS, "pixverse-v5.5-i2v", sidecar=sidecar, sidecar_key=f"settings sidecar {KEY!r}"
    )


def test_metadata_beats_sidecar_beats_preset_beats_defaults() -> None:
    job = resolve({"quality": "1080p"}, {"quality": "360p", "style": "clay", "prompt": "from the sidecar"})
    record = job.as_record()
    assert record["quality"] == "1080p"  # metadata
    assert (record["style"], record["prompt"]) == ("clay", "from the sidecar")  # sidecar over preset, defaults
    assert record["duration"] == "8"  # the preset, where neither says
    assert resolve({}, None).as_record()["prompt"] == "gentle motion"  # defaults


def test_a_sidecar_carries_a_prompt_far_over_s3s_2_kb_to_a_model_that_allows_it() -> None:
    prompt = "a slow pan across the harbour, " * 100  # 3,100 characters
    job = resolve({}, {"model": "pixverse-v6-i2v", "prompt": prompt, "duration": 7})
    assert job.model_id == "pixverse-v6-i2v"
    assert job.as_record()["prompt"] == prompt.strip()
    assert job.as_record()["duration"] == 7
    with pytest.raises(InvalidSettingsError, match="5000"):
        resolve({}, {"model": "pixverse-v6-i2v", "prompt": "x" * 5001})  # the model's own limit still holds


def test_sidecar_values_are_read_as_metadata_text_is() -> None:
    job = resolve({}, {"duration": 5, "generate_audio_switch": True, "seed": "42"})
    record = job.as_record()
    assert (record["duration"], record["generate_audio_switch"], record["seed"]) == ("5", True, 42)


def test_metadata_model_beats_the_sidecars_and_the_sidecar_must_fit_it() -> None:
    assert resolve({}, {"model": "wan2.6-i2v"}).model_id == "wan2.6-i2v"
    assert resolve({"model": "kling-v2-6"}, {"model": "wan2.6-i2v"}).model_id == "kling-v2-6"
    with pytest.raises(InvalidSettingsError, match="'style'"):
        resolve({"model": "kling-v2-6"}, {"style": "anime"})


def test_a_name_no_model_has_rejects_the_job_naming_the_sidecar() -> None:
    with pytest.raises(InvalidSettingsError) as error:
        resolve({}, {"prompt": "p", "colour": "blue"})
    message = str(error.value)
    assert KEY in message
    assert "'colour'" in message
    assert "pixverse-v5.5-i2v" in message


def test_metadata_settings_key_is_a_control_key_not_a_setting() -> None:
    assert resolve({"settings": "cat.json"}, None).model_id == "pixverse-v5.5-i2v"


def test_the_sidecar_beside_an_image() -> None:
    assert default_sidecar_key("incoming/cat.jpg") == "incoming/cat.json"
    assert default_sidecar_key("incoming/a.b/cat.tar.png") == "incoming/a.b/cat.tar.json"
    assert default_sidecar_key("incoming/noext") == "incoming/noext.json"
    assert default_sidecar_key("incoming/.png") == "incoming/.png.json"


def test_a_sidecar_named_by_metadata() -> None:
    assert named_sidecar_key("incoming/x/cat.jpg", "cat-settings.json", "incoming/") == "incoming/x/cat-settings.json"
    assert named_sidecar_key("incoming/x/cat.jpg", "incoming/shared.json", "incoming/") == "incoming/shared.json"
    for bad in ("../../secrets.json", "cat.txt", "/etc/x.json"):
        with pytest.raises(InvalidSettingsError, match="metadata 'settings'"):
            named_sidecar_key("incoming/x/cat.jpg", bad, "incoming/")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"prompt": "unterminated', "not valid JSON"),
        (b"", "is empty"),
        (b'["prompt"]', "one JSON object of settings, not a list"),
        (b'{"prompt": {"text": "x"}}', "'prompt' is an object"),
        (b'{"seed": null}', "'seed' is null"),
        (b'{"prompt": "a", "prompt": "b"}', "names 'prompt' more than once"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b" " * (MAX_SIDECAR_BYTES + 1), f"the limit is {MAX_SIDECAR_BYTES}"),
    ],
)
def test_a_bad_sidecar_is_refused_with_a_clear_reason(body: bytes, words: str) -> None:
    with pytest.raises(InvalidSettingsError) as error:
        parse_sidecar(KEY, body)
    assert words in str(error.value)
    assert KEY in str(error.value)


def test_a_good_sidecar_parses() -> None:
    body = json.dumps({"prompt": "ñandú", "duration": 5, "audio": False}).encode()
    assert parse_sidecar(KEY, body) == {"prompt": "ñandú", "duration": 5, "audio": False}
