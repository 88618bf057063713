"""What the services read of their function's settings, as plain models.

The functions' environment models (i2v.config) parse and validate the variables at cold start and hand each
service its options (`SubmitEnv.options()`): the services never see the environment. Every field is required,
so a field the environment model lacks fails the function's cold start, not a job.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from i2v.domain.budgets import BudgetAction, UnpricedPolicy
from i2v.domain.polling import PollPolicy
from i2v.domain.pricing import PriceRule


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", from_attributes=True, defer_build=True)


class SubmitOptions(_Options):
    """The submit service and its parts (validation, budgets, the execution start)."""

    input_prefix: str
    end_frame_prefix: str
    max_image_bytes: int
    presign_ttl_seconds: int
    gmi_model_id: str
    gmi_timeout_seconds: float
    default_settings: dict[str, Any]
    prefix_presets: dict[str, dict[str, Any]]
    gmi_prices: dict[str, PriceRule]
    daily_submission_cap: int
    budget_exceeded_action: BudgetAction
    daily_budget_usd: Decimal
    prefix_budgets: dict[str, Decimal]
    unpriced_jobs_under_budget: UnpricedPolicy
    poll_policy: PollPolicy
    job_deadline_seconds: int


class CompleteOptions(_Options):
    """The complete service: where the video goes and how large it may be (the download's host checks belong
    to the video source it is given)."""

    input_prefix: str
    output_bucket: str
    output_prefix: str
    max_video_bytes: int
