"""The day's spend of each dollar budget as a CloudWatch metric (EMF), the budget (`all` or a prefix) a dimension.

Powertools' `single_metric`: the shared Metrics object flushes one set of dimensions for all its metrics, and each
budget needs its own. Alarms at 80 % and 100 % of each budget read it (infrastructure monitoring).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from i2v.domain.metric_names import BUDGET_DIMENSION, MetricName


class SpendMetrics:
    def __init__(self, namespace: str | None = None) -> None:
        # The function's namespace, read once at composition (as its Metrics object does), not at each emit.
        self.namespace = namespace

    def daily_spend(self, budget: str, total_usd: float) -> None:
        with single_metric(
            name=MetricName.DAILY_SPEND_USD, unit=MetricUnit.NoUnit, value=total_usd, namespace=self.namespace
        ) as metric:
            metric.add_dimension(name=BUDGET_DIMENSION, value=budget)
