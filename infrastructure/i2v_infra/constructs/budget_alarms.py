"""Alarms at 80 % and 100 % of each daily dollar budget (global and per prefix), and the spend on the dashboard.

They read `DailySpendUsd` (i2v.domain.metric_names): the UTC day's reserved spend of one budget, emitted by the
submit function after each reservation and give-back, with the budget (`all` or the prefix) as a dimension. Its
Maximum over 5 minutes is the day's spend then.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from i2v.domain.budgets import ALL
from i2v.domain.metric_names import BUDGET_DIMENSION, MetricName
from i2v_infra.config import PipelineConfig

NAMESPACE = "ImageToVideo"  # POWERTOOLS_METRICS_NAMESPACE
THRESHOLDS = (80, 100)  # percent of each budget


def budgets_of(config: PipelineConfig) -> dict[str, float]:
    """Budget name (`all` or a prefix) -> its daily limit in dollars."""
    limits = {ALL: config.daily_budget_usd} if config.daily_budget_usd > 0 else {}
    return {**limits, **config.prefix_budgets}


def spend_metric(budget: str) -> cw.Metric:
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=str(MetricName.DAILY_SPEND_USD),
        dimensions_map={"service": "i2v", BUDGET_DIMENSION: budget},
        statistic=cw.Stats.MAXIMUM,
        period=Duration.minutes(5),
        label=f"{budget} ($ today)",
    )


def budget_alarms(scope: Construct, config: PipelineConfig) -> list[cw.Alarm]:
    """Two alarms per budget; construct ids by position (a prefix may hold characters ids may not)."""
    alarms = []
    for index, (budget, limit) in enumerate(budgets_of(config).items()):
        name = "DailyBudget" if budget == ALL else f"PrefixBudget{index}"
        for percent in THRESHOLDS:
            alarms.append(
                cw.Alarm(
                    scope,
                    f"{name}At{percent}Percent",
                    metric=spend_metric(budget),
                    threshold=round(limit * percent / 100, 4),
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    evaluation_periods=1,
                    # No data (no job for a while) keeps the state: the next day's first job brings it back to OK.
                    treat_missing_data=cw.TreatMissingData.IGNORE,
                    alarm_description=f"Today's GMI spend of budget {budget!r} reached {percent} % of ${limit:g} "
                    "(UTC day; jobs over it are rejected or deferred as budget_exceeded_action says).",
                )
            )
    return alarms


def spend_widget(config: PipelineConfig) -> cw.GraphWidget | None:
    budgets = budgets_of(config)
    if not budgets:
        return None
    return cw.GraphWidget(
        title="GMI spend today ($, per budget)",
        left=[spend_metric(budget) for budget in budgets],
        left_annotations=[
            cw.HorizontalAnnotation(value=limit, label=f"{budget} budget") for budget, limit in budgets.items()
        ],
        width=12,
    )
