"""How prices read in the CLI: `i2v models` (documented rules), `i2v models show` (each rate), `i2v status` and
`i2v list` (a job's estimate), `i2v estimate` (the words for each source)."""

from __future__ import annotations

from typing import Any

from i2v.domain import catalog
from i2v.domain.pricing import PriceRule, PriceSource, PriceUnit
from i2v.domain.record import JobRecord

SOURCE_WORDS = {
    PriceSource.SETTING: "the deployment's gmi_prices",
    PriceSource.GMI: "GMI's price_info",
    PriceSource.DOCUMENTED: "GMI's documented price",
    PriceSource.NONE: "no known price",
}


def usd(amount: float | None) -> str:
    """$0.56, $1.008, $12.00: cents always, tenths of a cent when there are any."""
    if amount is None:
        return ""
    text = f"{amount:,.4f}"
    while text.endswith("0") and len(text.partition(".")[2]) > 2:
        text = text[:-1]
    return f"${text}"


def rule_origin(rule: PriceRule) -> str:
    """Where a documented rule was read and when, e.g. 'https://docs... (as of 2026-06-29)'."""
    parts = [rule.source_url or "", f"as of {rule.as_of}" if rule.as_of else ""]
    return " ".join(part for part in parts if part)


def price_summary(source: PriceSource, rule: PriceRule | None) -> str:
    """`i2v models`' price column: the rule and whose it is, or that none is known."""
    if rule is None:
        return "none known"
    origin = {PriceSource.DOCUMENTED: f"GMI docs, {rule.as_of}", PriceSource.GMI: "GMI's price_info"}
    return f"{rule.describe()} ({origin.get(source, 'gmi_prices')})"


def rule_json(source: PriceSource, rule: PriceRule | None) -> dict[str, Any]:
    shown = rule.model_dump(mode="json", exclude_none=True) if rule else None
    return {"source": str(source), "rule": shown, "text": rule.describe() if rule else None}


def model_price_lines(model_id: str, rule: PriceRule | None, source: PriceSource) -> list[str]:
    """`i2v models show`: each rate, and what a job at the model's default duration costs at it."""
    if rule is None:
        return [f"price: none known (GMI documents none for {model_id}; gmi_prices can give it one)"]
    model = catalog.get(model_id)
    default_seconds = model.model_fields[model.DURATION_FIELD].default
    origin = rule_origin(rule)
    lines = [f"price ({SOURCE_WORDS[source]}{'; ' + origin if origin else ''}):"]
    for rate in rule.rates:
        when = ", ".join(f"{name}={value}" for name, value in rate.when.items()) or "every setting"
        line = f"  {when}: {rate.price_text(rule.unit)}"
        if rule.unit == PriceUnit.SECOND and default_seconds is not None:
            line += f" -> {usd(float(rate.usd * int(default_seconds)))} for {default_seconds} s (the default)"
        lines.append(line)
    if rule.note:
        lines.append(f"  note: {rule.note}")
    return lines


def job_price_line(job: JobRecord) -> str | None:
    """`i2v status`: the job's recorded estimate (None for jobs priced before prices existed)."""
    if job.price_source is None:
        return None
    words = SOURCE_WORDS.get(PriceSource(job.price_source), job.price_source)
    if job.estimated_cost_usd is None:
        return f"no estimate ({words})"
    line = f"{usd(job.estimated_cost_usd)} ({words})"
    held = job.budget_reserved
    if held is not None:  # the dollar budgets it counts in (issue 25)
        line += f"; counted in {held.day}'s budgets: {', '.join(held.budgets)}"
    return line
