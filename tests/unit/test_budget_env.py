"""The dollar budgets' environment, validated at the submit function's init (i2v.config.SubmitEnv)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from i2v.config import SubmitEnv
from i2v.domain.budgets import ALL, limits_for, prefix_of
from support.submit_service import ENVIRONMENT


def test_budgets_default_to_none_and_refusing_unpriced_jobs() -> None:
    env = SubmitEnv.model_validate(ENVIRONMENT)
    assert (env.daily_budget_usd, env.prefix_budgets, env.unpriced_jobs_under_budget) == (0, {}, "refuse")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DAILY_BUDGET_USD", "-1", "DAILY_BUDGET_USD"),
        ("PREFIX_BUDGETS", '{"team-a": 5}', "'team-a': a sub-prefix under the input prefix ends with '/'"),
        ("PREFIX_BUDGETS", '{"team-a/": 0}', "'team-a/': a daily budget in dollars above 0"),
        ("PREFIX_BUDGETS", "[1]", "PREFIX_BUDGETS"),
        ("UNPRICED_JOBS_UNDER_BUDGET", "guess", "UNPRICED_JOBS_UNDER_BUDGET"),
    ],
)
def test_a_bad_budget_setting_fails_the_init_naming_it(variable: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SubmitEnv.model_validate({**ENVIRONMENT, variable: value})
    assert message in str(caught.value)


def test_a_job_counts_against_the_global_budget_and_its_longest_prefix() -> None:
    budgets = {"team-a/": Decimal(5), "team-a/vip/": Decimal(50)}
    assert prefix_of("incoming/team-a/vip/cat.png", "incoming/", budgets) == "team-a/vip/"
    assert prefix_of("incoming/team-b/cat.png", "incoming/", budgets) is None
    assert limits_for("incoming/team-a/cat.png", "incoming/", Decimal(20), budgets) == {
        ALL: Decimal(20),
        "team-a/": Decimal(5),
    }
    assert limits_for("incoming/cat.png", "incoming/", Decimal(0), budgets) == {}
