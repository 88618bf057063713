"""Daily budgets in dollars (issue 25): reserve a job's price before its POST, give it back when GMI took nothing.

Like the count cap's slot, the money is taken with one conditional write (the jobs table's `BUDGET#{day}`/`USD`
item, a counter per budget) before the job goes `submitting`, and kept on the job (`budget_reserved`). It goes
back when the POST is refused or never sent, and when an ambiguous submission is reconciled as not created
(once: the job's `budget_reserved` is removed in the same transaction). A job GMI may have accepted keeps it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from i2v.domain.budgets import SpendReservation, UnpricedPolicy, describe, dollars, limits_for, unpriced_message
from i2v.domain.jobs import Failure, FailureCategory
from i2v.domain.options import SubmitOptions
from i2v.domain.pricing import JobPrice
from i2v.domain.record import JobRecord
from i2v.services.ports import JobRepositoryPort, NoSpendMetrics, SpendMetricsPort

logger = logging.getLogger(__name__)

# A job found at GMI after its money went back is charged again whatever the day's spend: GMI bills it.
_NO_LIMIT = Decimal(10) ** 12


@dataclass(frozen=True)
class BudgetCheck:
    """`reservation`: what the job now holds (None: no dollar budget applies, or an unpriced job allowed);
    `over`: why it may not be paid for today (nothing was taken)."""

    reservation: SpendReservation | None = None
    over: str | None = None


@dataclass
class DollarBudgets:
    options: SubmitOptions
    repo: JobRepositoryPort
    metrics: SpendMetricsPort = field(default_factory=NoSpendMetrics)

    def limits(self, job: JobRecord) -> dict[str, Decimal]:
        return limits_for(
            job.source.key, self.options.input_prefix, self.options.daily_budget_usd, self.options.prefix_budgets
        )

    def unpriced_refusal(self, job: JobRecord, price: JobPrice) -> Failure | None:
        """A job without a known price under a dollar budget: refused unless unpriced_jobs_under_budget allows."""
        if price.usd is not None or not self.limits(job):
            return None
        if self.options.unpriced_jobs_under_budget == UnpricedPolicy.ALLOW:
            logger.warning("job %s has no known price; allowed under the dollar budget, uncounted", job.job_id)
            return None
        return Failure(category=FailureCategory.BUDGET, message=unpriced_message(price.model_id, price.reason))

    def reserve(self, job: JobRecord, price: JobPrice, today: datetime) -> BudgetCheck:
        limits = self.limits(job)
        if not limits or price.usd is None:
            return BudgetCheck()
        day = today.strftime("%Y-%m-%d")
        expires = int((today + timedelta(days=3)).timestamp())
        totals = self.repo.reserve_spend(day, price.usd, limits, expires)
        if totals is None:
            spent = self.repo.spent(day)
            # The budget that is used up; the first one if a give-back made room again since the refusal.
            full = [name for name, limit in limits.items() if spent.get(name, Decimal(0)) >= limit]
            name = (full or list(limits))[0]
            used = dollars(spent.get(name, Decimal(0)))
            return BudgetCheck(over=f"{describe(name, limits[name])} reached ({used} spent on {day} UTC)")
        self._report(totals, limits)
        return BudgetCheck(SpendReservation(day=day, usd=float(price.usd), budgets=tuple(limits)))

    def give_back(self, reservation: SpendReservation | None, job_id: str | None = None) -> None:
        """GMI provably took nothing: the money goes back (with `job_id`: only if that job still holds it)."""
        if reservation is None or not self.repo.release_spend(reservation, job_id):
            return
        logger.info("job %s gave back $%s of %s's budget", job_id, reservation.usd, reservation.day)
        self._report(self.repo.spent(reservation.day), dict.fromkeys(reservation.budgets, Decimal(0)))

    def give_back_held(self, job: JobRecord) -> None:
        """An ambiguous job reconciled as not created: its money goes back, once."""
        self.give_back(job.budget_reserved, job.job_id)

    def charge_found(self, job: JobRecord, today: datetime) -> SpendReservation | None:
        """A job found at GMI after its money went back (reconciled as not created, found later): GMI bills it,
        so it counts again, over the limit if need be. None when nothing was charged."""
        limits = self.limits(job)
        if job.budget_reserved is not None or job.estimated_cost_usd is None or not limits:
            return None
        usd = Decimal(str(job.estimated_cost_usd))
        day = today.strftime("%Y-%m-%d")
        totals = self.repo.reserve_spend(day, usd, dict.fromkeys(limits, _NO_LIMIT), int(today.timestamp()) + 259200)
        if totals is not None:
            self._report(totals, limits)
        return SpendReservation(day=day, usd=float(usd), budgets=tuple(limits))

    def _report(self, totals: dict[str, Decimal], budgets: dict[str, Decimal]) -> None:
        for name in budgets:
            self.metrics.daily_spend(name, float(totals.get(name, Decimal(0))))
