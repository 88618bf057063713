"""Price rules (i2v.domain.pricing): every rule shape, the precedence of sources, and "no known price"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from i2v.domain import catalog
from i2v.domain.pricing import (
    DOCUMENTED,
    PriceRule,
    PriceRuleError,
    PriceSource,
    PriceUnit,
    Rate,
    configured_rules,
    price_of,
    rule_from_price_info,
)


def settings(model_id: str, **values: Any) -> catalog.CatalogModel:
    return catalog.get(model_id).model_validate({"prompt": "a cat", **values})


def test_per_second_by_resolution_documented_kling_turbo() -> None:
    at_720 = price_of("kling-3.0-turbo-i2v", settings("kling-3.0-turbo-i2v", resolution="720p", duration="5"))
    at_1080 = price_of("kling-3.0-turbo-i2v", settings("kling-3.0-turbo-i2v", resolution="1080p", duration="10"))
    assert (at_720.usd, at_720.source) == (Decimal("0.56"), PriceSource.DOCUMENTED)
    assert at_1080.usd == Decimal("1.4")
    assert "$0.14/s at resolution=1080p x 10 s" in at_1080.reason


def test_audio_priced_only_where_documented_kling_v3() -> None:
    with_sound = price_of("kling-v3-image-to-video", settings("kling-v3-image-to-video", sound="on", duration="4"))
    assert with_sound.usd == Decimal("1.008")
    silent = price_of("kling-v3-image-to-video", settings("kling-v3-image-to-video", sound="off"))
    # The base rate is not documented: no price, and the reason says for which setting.
    assert silent.usd is None
    assert silent.source == PriceSource.DOCUMENTED
    assert "no rate for sound=off" in silent.reason
    assert silent.record_fields() == {"price_source": "documented"}
    assert silent.stale_fields() == ("estimated_cost_usd",)


def test_a_model_without_a_documented_price_has_none() -> None:
    price = price_of("pixverse-v5.5-i2v", settings("pixverse-v5.5-i2v"))
    assert (price.usd, price.source) == (None, PriceSource.NONE)
    assert "no known price for model 'pixverse-v5.5-i2v'" in price.reason
    assert "gmi_prices" in price.reason
    assert price.record_fields() == {"price_source": "none"}


def test_only_documented_models_have_defaults_each_sourced_and_dated() -> None:
    assert set(DOCUMENTED) == {"kling-3.0-turbo-i2v", "kling-v3-image-to-video"}
    for model_id, rule in DOCUMENTED.items():
        assert (rule.source_url or "").startswith("https://docs.gmicloud.ai/"), model_id
        assert rule.as_of
        assert rule == configured_rules({model_id: rule.model_dump(mode="json")})[model_id]


def test_per_video_by_quality_duration_and_audio_from_the_setting() -> None:
    configured = configured_rules(
        {
            "pixverse-v5.5-i2v": {
                "unit": "video",
                "rates": [
                    {"when": {"quality": "540p", "duration": "5", "generate_audio_switch": "false"}, "usd": 0.45},
                    {"when": {"quality": "540p", "duration": "5", "generate_audio_switch": "yes"}, "usd": 0.6},
                    {"when": {"quality": "1080p"}, "usd": 1.2},
                ],
            }
        }
    )
    plain = price_of("pixverse-v5.5-i2v", settings("pixverse-v5.5-i2v"), configured)
    loud = price_of("pixverse-v5.5-i2v", settings("pixverse-v5.5-i2v", generate_audio_switch=True), configured)
    sharp = price_of("pixverse-v5.5-i2v", settings("pixverse-v5.5-i2v", quality="1080p", duration="8"), configured)
    assert (plain.usd, plain.source) == (Decimal("0.45"), PriceSource.SETTING)
    assert loud.usd == Decimal("0.6")  # "yes" read as the switch's true
    assert sharp.usd == Decimal("1.2")  # per video: the duration does not multiply
    assert plain.record_fields() == {"price_source": "setting", "estimated_cost_usd": 0.45}
    assert plain.stale_fields() == ()
    unpriced = price_of("pixverse-v5.5-i2v", settings("pixverse-v5.5-i2v", quality="720p"), configured)
    assert unpriced.usd is None
    assert "no rate for quality=720p" in unpriced.reason


def test_integer_settings_match_their_text() -> None:
    rule = configured_rules({"wan2.6-i2v": {"unit": "second", "rates": [{"when": {"duration": "10"}, "usd": 0.1}]}})
    assert price_of("wan2.6-i2v", settings("wan2.6-i2v", duration=10), rule).usd == Decimal("1")


def test_precedence_setting_then_gmi_then_documented() -> None:
    job = settings("kling-3.0-turbo-i2v", resolution="1080p", duration="5")
    gmi = rule_from_price_info({"price": 100000, "pricing_type": "per_second", "unit": "usd_micros"})
    mine = configured_rules({"kling-3.0-turbo-i2v": {"unit": "video", "rates": [{"usd": 0.5}]}})
    assert price_of("kling-3.0-turbo-i2v", job, mine, gmi).source == PriceSource.SETTING
    by_gmi = price_of("kling-3.0-turbo-i2v", job, {}, gmi)
    assert (by_gmi.source, by_gmi.usd) == (PriceSource.GMI, Decimal("0.5"))
    assert price_of("kling-3.0-turbo-i2v", job).source == PriceSource.DOCUMENTED


@pytest.mark.parametrize(
    ("info", "unit", "usd"),
    [
        ({"price": 45, "pricing_type": "per_video", "unit": "usd_cents"}, PriceUnit.VIDEO, "0.45"),
        ({"price": 112000, "pricing_type": "per_second", "unit": "USD_micros"}, PriceUnit.SECOND, "0.112"),
        ({"price": 2, "pricing_type": "per_request", "unit": "usd"}, PriceUnit.VIDEO, "2"),
    ],
)
def test_price_info_read_as_documented_by_our_reading(info: dict[str, Any], unit: PriceUnit, usd: str) -> None:
    rule = rule_from_price_info(info)
    assert rule.unit == unit
    assert rule.rates == (Rate(usd=Decimal(usd)),)


@pytest.mark.parametrize(
    ("info", "complaint"),
    [
        ({"price": 45, "pricing_type": "per_token", "unit": "usd_cents"}, "pricing_type 'per_token'"),
        ({"price": 45, "pricing_type": "per_video", "unit": "credits"}, "unit 'credits'"),
        ({"price": -1, "pricing_type": "per_video", "unit": "usd"}, "price -1"),
        ({"price": "45", "pricing_type": "per_video", "unit": "usd"}, "price '45'"),
        ("45 USD", "not an object"),
    ],
)
def test_price_info_we_cannot_read_is_never_guessed(info: Any, complaint: str) -> None:
    with pytest.raises(PriceRuleError, match=complaint):
        rule_from_price_info(info)


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ({"no-such-model": {"unit": "video", "rates": [{"usd": 1}]}}, "unknown model 'no-such-model'"),
        ({"wan2.6-i2v": {"unit": "minute", "rates": [{"usd": 1}]}}, r"wan2.6-i2v: unit: Input should be"),
        ({"wan2.6-i2v": {"unit": "video", "rates": []}}, "wan2.6-i2v: rates"),
        ({"wan2.6-i2v": {"unit": "video", "rates": [{"usd": -1}]}}, r"rates.0.usd"),
        (
            {"wan2.6-i2v": {"unit": "video", "rates": [{"when": {"quality": "720p"}, "usd": 1}]}},
            r"wan2.6-i2v: rates\[0\].when.quality: model has no setting 'quality'",
        ),
        (
            {"wan2.6-i2v": {"unit": "video", "rates": [{"when": {"resolution": "720p"}, "usd": 1}]}},
            r"when.resolution: '720p' is not accepted; accepts \"720P\", \"1080P\"",
        ),
    ],
)
def test_invalid_settings_name_the_model_and_the_place(raw: dict[str, Any], complaint: str) -> None:
    with pytest.raises(PriceRuleError, match=complaint):
        configured_rules(raw)


def test_rule_describes_itself() -> None:
    rule = PriceRule(unit=PriceUnit.SECOND, rates=(Rate(usd=Decimal("0.10")),))
    assert rule.describe() == "$0.1/s"
    assert DOCUMENTED["kling-3.0-turbo-i2v"].describe() == "$0.112/s at resolution=720p; $0.14/s at resolution=1080p"


SUBMIT_ENV = {
    "JOBS_TABLE_NAME": "jobs",
    "EVENT_BUS_NAME": "bus",
    "GMI_API_KEY_SECRET_ID": "secret",
    "OUTPUT_BUCKET": "out-bucket",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:sm",
}


def test_the_submit_function_reads_gmi_prices_and_refuses_bad_ones() -> None:
    from pydantic import ValidationError

    from i2v.config import SubmitEnv

    assert SubmitEnv.from_environ(SUBMIT_ENV).gmi_prices == {}
    raw = '{"kling-v2-6": {"unit": "video", "rates": [{"when": {"sound": "on"}, "usd": 0.9}]}}'
    env = SubmitEnv.from_environ({**SUBMIT_ENV, "GMI_PRICES": raw})
    assert env.gmi_prices["kling-v2-6"].rates[0].usd == Decimal("0.9")
    with pytest.raises(ValidationError, match=r"GMI_PRICES[\s\S]*kling-v2-6: rates\[0\].when.sound: 'loud'"):
        SubmitEnv.from_environ({**SUBMIT_ENV, "GMI_PRICES": raw.replace('"on"', '"loud"')})
