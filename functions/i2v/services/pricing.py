"""The price of a job before anything is sent: the rule that applies (setting > GMI > documented > none).

GMI's price_info is asked only when the deployment's gmi_prices does not already name the model, and the
GMI client caches it per process (adapters/gmi.py): at most one GET /models/{id} per model an hour, never one
per job. A price GMI will not give, or gives in a shape we cannot read, falls back to the documented price: a
job is never held up or refused for want of a price here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from i2v.domain.gmi_answers import GmiError
from i2v.domain.pricing import JobPrice, PriceRule, PriceRuleError, price_of, rule_from_price_info
from i2v.domain.settings import JobSettings

logger = logging.getLogger(__name__)


class PriceInfoSource(Protocol):
    def price_info(self, model_id: str) -> dict[str, Any] | None: ...


def gmi_rule(gmi: PriceInfoSource, model_id: str) -> PriceRule | None:
    """GMI's price_info of the model as a rule; None when GMI gives none, cannot be asked, or says it unreadably."""
    try:
        info = gmi.price_info(model_id)
    except GmiError as error:
        logger.warning("GMI's price_info of %s not read (%s); the documented price applies", model_id, error)
        return None
    if info is None:
        return None
    try:
        return rule_from_price_info(info)
    except PriceRuleError as error:
        logger.warning("GMI's price_info of %s not used: %s", model_id, error)
        return None


def price_job(settings: JobSettings, configured: Mapping[str, PriceRule], gmi: PriceInfoSource) -> JobPrice:
    """The job's price from its resolved settings; the deployment's setting spares the look at GMI."""
    from_gmi = None if settings.model_id in configured else gmi_rule(gmi, settings.model_id)
    price = price_of(settings.model_id, settings.settings, configured, from_gmi)
    logger.info(
        "priced",
        extra={
            "model": settings.model_id,
            "price_source": price.source,
            "usd": None if price.usd is None else float(price.usd),
        },
    )
    return price
