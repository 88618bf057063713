"""`i2v models`, `i2v models show ID`, `--set` parsing, and the README's generated settings section."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.cli import cli_json, run
from i2v.domain import catalog
from i2v_cli import catalog_docs
from i2v_cli.models import parse_sets
from i2v_cli.output import CliError
from i2v_cli.uploads import settings_metadata


def test_models_lists_the_catalog_with_image_field_durations_resolutions_end_frame_audio(capsys: Any) -> None:
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0
    rows = {row["id"]: row for row in cli_json(out)}
    assert list(rows) == list(catalog.ids())
    # Data, not display strings (issue 28, stumble 13): field names and the values they accept.
    assert rows["vidu-q3-pro-i2v"]["image"] == {"field": "images", "form": "url_or_base64", "shape": "string"}
    assert rows["wan2.6-i2v"]["duration"] == {"field": "duration", "values": [5, 10, 15]}
    assert rows["pixverse-v5.5-i2v"]["duration"] == {"field": "duration", "values": ["5", "8", "10"]}
    assert rows["pixverse-v6-i2v"]["duration"] == {"field": "duration", "type": "integer", "minimum": 1, "maximum": 15}
    assert rows["kling-v3-image-to-video"]["end_frame_field"] == "image_tail"
    assert rows["veo-3.1-fast-generate-001"]["audio_field"] == "generateAudio"
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "seedance-2-0-fast-260128" in out


@pytest.mark.parametrize("columns", [80, 200])
def test_models_never_cuts_a_word_at_any_width(columns: int, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 28, stumble 4: at 80 columns the table cut every column to "dura…"."""
    monkeypatch.setattr("i2v_cli.output.console.width", columns)
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "…" not in out
    assert 'duration: "5", "8", "10"' in out


def test_models_show_gives_one_models_parameters(capsys: Any) -> None:
    code, out, _ = run(capsys, "models", "show", "Minimax-Hailuo-2.3-Fast", "--json")
    assert code == 0
    schema = cli_json(out)
    assert schema["image"]["field"] == "first_frame_image"
    assert schema["properties"]["resolution"]["enum"] == ["512P", "768P", "1080P"]
    assert schema["rules"] == ['resolution "1080P" only with duration 6']
    code, out, _ = run(capsys, "models", "show", "wan2.6-i2v")
    assert code == 0
    assert "img_url" in out
    code, _, err = run(capsys, "models", "show", "sora-9")
    assert code == 1
    assert "unknown model 'sora-9'" in err


def test_set_options_become_typed_settings_of_the_chosen_model() -> None:
    assert parse_sets(["duration=10", "prompt=a=b"]) == {"duration": "10", "prompt": "a=b"}
    with pytest.raises(CliError, match="key=value"):
        parse_sets(["duration"])
    metadata = settings_metadata({"prompt": "p", "model": "wan2.6-i2v", "duration": "10", "audio": False})
    assert metadata == {"prompt": "p", "model": "wan2.6-i2v", "duration": "10", "audio": "false"}
    with pytest.raises(CliError, match=r"model 'wan2\.6-i2v'.*resolution.*\"720P\", \"1080P\""):
        settings_metadata({"prompt": "p", "model": "wan2.6-i2v", "resolution": "720p"})


def test_readme_settings_per_model_are_generated_from_the_catalog() -> None:
    text = catalog_docs.README.read_text(encoding="utf-8")
    assert catalog_docs.readme_with_section(text) == text, "run: python -m i2v_cli.catalog_docs"
    for model_id in catalog.ids():
        assert f"#### `{model_id}`" in text


def test_models_show_the_documented_price_rule_or_none(capsys: Any) -> None:
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0
    rows = {row["id"]: row for row in cli_json(out)}
    price = rows["kling-3.0-turbo-i2v"]["price"]
    assert (price["source"], price["text"]) == (
        "documented",
        "$0.112/s at resolution=720p; $0.14/s at resolution=1080p",
    )
    assert price["rule"]["rates"][1] == {"when": {"resolution": "1080p"}, "usd": 0.14}
    assert rows["pixverse-v5.5-i2v"]["price"] == {"source": "none", "rule": None, "text": None}
    code, out, _ = run(capsys, "models")
    assert "$0.112/s at resolution=720p; $0.14/s at resolution=1080p (GMI docs, 2026-06-29)" in " ".join(out.split())


def test_models_show_prices_each_setting_and_says_where_it_was_read(capsys: Any) -> None:
    code, out, _ = run(capsys, "models", "show", "kling-3.0-turbo-i2v")
    assert code == 0
    assert "resolution=1080p: $0.14/s -> $0.70 for 5 s (the default)" in out
    assert "https://docs.gmicloud.ai/model-quickstarts/video/kling-3-0-turbo-i2v as of 2026-06-29" in out
    code, out, _ = run(capsys, "models", "show", "kling-v3-image-to-video", "--json")
    price = cli_json(out)["price"]
    assert price["source"] == "documented"
    assert price["rule"]["rates"] == [{"when": {"sound": "on"}, "usd": 0.252}]
    code, out, _ = run(capsys, "models", "show", "wan2.6-i2v")
    assert "price: none known (GMI documents none for wan2.6-i2v; gmi_prices can give it one)" in out
