"""GMI prices: each catalog model's price rule, and the price of one job from its resolved settings.

Pure (no GMI, no AWS). A rule is per second (x the job's duration) or per video, with rates chosen by
settings (`when`: resolution/quality, duration, audio...). The first rate whose `when` matches the job's
settings prices it; none matching means no price, never a guess.

Where a model's rule comes from, first found wins (docs/architecture.md, "Prices"):
  1. the deployment's `gmi_prices` setting (the operator knows their contract, discounts, new prices);
  2. GMI's `price_info` from GET /models/{id} (GMI's own word today);
  3. the documented price below (our dated reading of GMI's pages);
  4. none: the job is recorded without an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_serializer

from i2v.domain import catalog
from i2v.domain.catalog.base import CatalogModel, as_text

PRECISION = Decimal("0.0001")  # estimates are kept to 1/100 of a cent


class PriceUnit(StrEnum):
    SECOND = "second"  # rate x the job's duration in seconds
    VIDEO = "video"  # rate per video


class PriceSource(StrEnum):
    SETTING = "setting"  # the deployment's gmi_prices
    GMI = "gmi"  # GMI's price_info (GET /models/{id})
    DOCUMENTED = "documented"  # GMI's pages, as read (DOCUMENTED below)
    NONE = "none"  # no known price


class Rate(BaseModel):
    """One price: applies when every `when` setting has that value (text, as `i2v models show` prints it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, str] = Field(default_factory=dict)
    usd: Decimal = Field(ge=0, le=1000)

    @field_serializer("usd", when_used="json")
    def _usd_as_number(self, value: Decimal) -> float:
        return float(value)  # a JSON number, as gmi_prices writes it

    def matches(self, settings: CatalogModel) -> bool:
        return all(as_text(getattr(settings, name, None)) == value for name, value in self.when.items())

    def price_text(self, unit: PriceUnit) -> str:
        return f"${self.usd.normalize():f}" + ("/s" if unit == PriceUnit.SECOND else "/video")

    def describe(self, unit: PriceUnit) -> str:
        condition = ", ".join(f"{name}={value}" for name, value in self.when.items())
        return f"{self.price_text(unit)} at {condition}" if condition else self.price_text(unit)


class PriceRule(BaseModel):
    """A model's price: its unit and its rates (first match wins), with where it was read and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: PriceUnit
    rates: tuple[Rate, ...] = Field(min_length=1)
    source_url: str | None = None
    as_of: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    note: str | None = None

    def rate_for(self, settings: CatalogModel) -> Rate | None:
        return next((rate for rate in self.rates if rate.matches(settings)), None)

    def describe(self) -> str:
        return "; ".join(rate.describe(self.unit) for rate in self.rates)


# GMI's documented prices (/work/shared/gmi-docs, models/*.md "Price"). Every other catalog model's page states no
# price in any copy found: those models have none here (gmi_prices can supply one).
DOCUMENTED: dict[str, PriceRule] = {
    "kling-3.0-turbo-i2v": PriceRule(
        unit=PriceUnit.SECOND,
        rates=(
            Rate(when={"resolution": "720p"}, usd=Decimal("0.112")),
            Rate(when={"resolution": "1080p"}, usd=Decimal("0.14")),
        ),
        source_url="https://docs.gmicloud.ai/model-quickstarts/video/kling-3-0-turbo-i2v",
        as_of="2026-06-29",
        note="page updated 2026-06-29 (source_updated_at 1782764783), read 2026-12-07",
    ),
    "kling-v3-image-to-video": PriceRule(
        unit=PriceUnit.SECOND,
        rates=(Rate(when={"sound": "on"}, usd=Decimal("0.252")),),
        source_url="https://docs.gmicloud.ai/model-quickstarts/video/kling-v3-image-to-video",
        as_of="2026-12-07",
        note='undated page, read 2026-12-07: sound "on" "increases the per-second rate to $0.252"; the base rate '
        '(sound "off") is not in any copy, so sound "off" has no price',
    ),
}


class PriceRuleError(ValueError):
    """A price rule that does not fit its model; the message names the model, the place and what is accepted."""


def check_rule(model_id: str, rule: PriceRule) -> PriceRule:
    """The rule with each `when` value in the form the job's settings are compared in, or PriceRuleError."""
    try:
        model = catalog.get(model_id)
    except catalog.UnknownModelError as error:
        raise PriceRuleError(str(error)) from None
    rates = []
    for index, rate in enumerate(rule.rates):
        when = {}
        for name, text in rate.when.items():
            where = f"{model_id}: rates[{index}].when.{name}"
            if name not in model.model_fields:
                raise PriceRuleError(
                    f"{where}: model has no setting {name!r}; its settings: {', '.join(model.model_fields)}"
                )
            value = model.from_text(name, str(text))
            try:
                TypeAdapter(model.model_fields[name].annotation or Any).validate_python(value, strict=True)
            except ValidationError:
                raise PriceRuleError(f"{where}: {text!r} is not accepted; accepts {model.accepted(name)}") from None
            when[name] = as_text(value)
        rates.append(rate.model_copy(update={"when": when}))
    return rule.model_copy(update={"rates": tuple(rates)})


def configured_rules(raw: Mapping[str, Any]) -> dict[str, PriceRule]:
    """The `gmi_prices` setting (model id -> rule), validated against the catalog; PriceRuleError names the key."""
    rules = {}
    for model_id, value in raw.items():
        try:
            rule = PriceRule.model_validate(value)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'rule'}: {item['msg']}" for item in error.errors()
            )
            raise PriceRuleError(f"{model_id}: {problems}") from None
        rules[model_id] = check_rule(model_id, rule)
    return rules


# GMI's price_info {price: int, pricing_type: str, unit: str} (SDK GetModelResponse) is documented by shape only.
# Our reading: pricing_type says what is billed, unit the currency and its scale (price is an integer, so it is
# in a minor unit). Anything else is not read: a price is never guessed.
PRICE_INFO_TYPES = {
    "per_second": PriceUnit.SECOND,
    "second": PriceUnit.SECOND,
    "per_video": PriceUnit.VIDEO,
    "video": PriceUnit.VIDEO,
    "per_request": PriceUnit.VIDEO,
    "request": PriceUnit.VIDEO,
}
PRICE_INFO_UNITS = {"usd": Decimal(1), "usd_cents": Decimal("0.01"), "usd_micros": Decimal("0.000001")}


def rule_from_price_info(info: Any) -> PriceRule:
    """GMI's price_info as a rule (one rate for every setting); PriceRuleError when we cannot read it."""
    if not isinstance(info, Mapping):
        raise PriceRuleError(f"price_info is not an object: {info!r}"[:200])
    kind = str(info.get("pricing_type", "")).strip().lower()
    unit = str(info.get("unit", "")).strip().lower()
    price = info.get("price")
    if kind not in PRICE_INFO_TYPES:
        raise PriceRuleError(f"price_info.pricing_type {kind!r} is not one we read ({', '.join(PRICE_INFO_TYPES)})")
    if unit not in PRICE_INFO_UNITS:
        raise PriceRuleError(f"price_info.unit {unit!r} is not one we read ({', '.join(PRICE_INFO_UNITS)})")
    if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
        raise PriceRuleError(f"price_info.price {price!r} is not a non-negative number")
    usd = (Decimal(str(price)) * PRICE_INFO_UNITS[unit]).normalize()
    return PriceRule(unit=PRICE_INFO_TYPES[kind], rates=(Rate(usd=usd),), note="GMI's price_info (GET /models)")


@dataclass(frozen=True)
class JobPrice:
    """What a job will cost at GMI: `usd` None when no known price covers its settings (`reason` says why)."""

    model_id: str
    source: PriceSource
    usd: Decimal | None
    reason: str
    rule: PriceRule | None = None

    def record_fields(self) -> dict[str, Any]:
        """What the job record keeps: estimated_cost_usd only when there is a price (see stale_fields)."""
        fields: dict[str, Any] = {"price_source": str(self.source)}
        if self.usd is not None:
            fields["estimated_cost_usd"] = float(self.usd)
        return fields

    def stale_fields(self) -> tuple[str, ...]:
        """What to remove from the record: an earlier attempt's estimate when this one has no price."""
        return () if self.usd is not None else ("estimated_cost_usd",)


def chosen_rule(
    model_id: str, configured: Mapping[str, PriceRule], gmi_rule: PriceRule | None
) -> tuple[PriceSource, PriceRule | None]:
    """The model's rule and where it came from: setting > GMI's price_info > documented > none."""
    if model_id in configured:
        return PriceSource.SETTING, configured[model_id]
    if gmi_rule is not None:
        return PriceSource.GMI, gmi_rule
    if model_id in DOCUMENTED:
        return PriceSource.DOCUMENTED, DOCUMENTED[model_id]
    return PriceSource.NONE, None


def price_of(
    model_id: str,
    settings: CatalogModel,
    configured: Mapping[str, PriceRule] | None = None,
    gmi_rule: PriceRule | None = None,
) -> JobPrice:
    """The price of one job (its model and resolved settings) under the rule that applies."""
    source, rule = chosen_rule(model_id, configured or {}, gmi_rule)
    if rule is None:
        reason = f"no known price for model {model_id!r}: GMI documents none; set one in gmi_prices"
        return JobPrice(model_id, PriceSource.NONE, None, reason)
    rate = rule.rate_for(settings)
    if rate is None:
        shown = ", ".join(f"{name}={value}" for name, value in _rule_settings(rule, settings).items())
        reason = f"the {source} price of {model_id!r} ({rule.describe()}) has no rate for {shown}"
        return JobPrice(model_id, source, None, reason, rule)
    if rule.unit == PriceUnit.SECOND:
        seconds = settings.duration_seconds()
        usd = (rate.usd * seconds).quantize(PRECISION)
        reason = f"{rate.describe(rule.unit)} x {seconds} s ({source})"
    else:
        usd = rate.usd.quantize(PRECISION)
        reason = f"{rate.describe(rule.unit)} ({source})"
    return JobPrice(model_id, source, usd, reason, rule)


def _rule_settings(rule: PriceRule, settings: CatalogModel) -> dict[str, str]:
    names = dict.fromkeys(name for rate in rule.rates for name in rate.when)
    return {name: as_text(getattr(settings, name, None)) for name in names}
