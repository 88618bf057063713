"""Daily budgets in dollars (issue 25): which budgets a job counts against, and what it reserved.

Pure. A job counts against the global `daily_budget_usd` (when set) and against the `prefix_budgets` entry of the
longest sub-prefix (under the input prefix) its key starts with. A UTC day's spend is the sum of the prices
reserved by the jobs it accepted; a job is accepted while each of its budgets is below its limit, so a day ends
at most one job's price over a budget (the same rule as the count cap: the last slot may be taken).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from i2v.domain.source import relative_key

# The dimension value of the global budget (a prefix always ends with "/", so it cannot be this).
ALL = "all"


class BudgetAction(StrEnum):
    """What a job over the daily cap or a dollar budget does: rejected, or deferred to the next UTC day."""

    REJECT = "reject"
    DEFER = "defer"


class UnpricedPolicy(StrEnum):
    """What a job without a known price does while a dollar budget applies to it."""

    REFUSE = "refuse"
    ALLOW = "allow"


class SpendReservation(BaseModel):
    """The money a job holds in the day's spend: kept on the job (`budget_reserved`) until given back."""

    model_config = ConfigDict(frozen=True)

    day: str
    usd: float
    budgets: tuple[str, ...]  # ALL and/or the job's prefix: the counters it was added to


def prefix_of(key: str, input_prefix: str, prefix_budgets: Mapping[str, Decimal]) -> str | None:
    """The longest budgeted sub-prefix the key (relative to the input prefix) starts with."""
    rel = relative_key(key, input_prefix)
    matches = [prefix for prefix in prefix_budgets if rel.startswith(prefix)]
    return max(matches, key=len) if matches else None


def limits_for(
    key: str, input_prefix: str, daily_usd: Decimal, prefix_budgets: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Budget name (ALL or a prefix) -> its daily limit, for every budget the job counts against."""
    limits: dict[str, Decimal] = {}
    if daily_usd > 0:
        limits[ALL] = daily_usd
    prefix = prefix_of(key, input_prefix, prefix_budgets)
    if prefix is not None:
        limits[prefix] = prefix_budgets[prefix]
    return limits


def dollars(value: Decimal) -> str:
    """$2.25, $2.00, $0.1125: cents always, more digits only where the amount has them."""
    cents = value.quantize(Decimal("0.01"))
    return f"${cents:f}" if cents == value else f"${value.normalize():f}"


def describe(budget: str, limit: Decimal) -> str:
    if budget == ALL:
        return f"daily budget of {dollars(limit)} (daily_budget_usd)"
    return f"daily budget of {dollars(limit)} for prefix {budget!r} (prefix_budgets)"


def unpriced_message(model_id: str, reason: str) -> str:
    return (
        f"model {model_id!r} has no known price ({reason}) and a daily dollar budget applies: give it a price in "
        f'gmi_prices (cdk.json), e.g. {{"{model_id}": {{"unit": "video", "rates": [{{"usd": 0.5}}]}}}}, or set '
        "unpriced_jobs_under_budget to allow"
    )
