"""Environment of each function, validated once at cold start so a bad deployment fails loudly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, Json, field_validator, model_validator

from i2v.domain import catalog
from i2v.domain.budgets import BudgetAction, UnpricedPolicy
from i2v.domain.options import CompleteOptions, SubmitOptions
from i2v.domain.polling import PollPolicy
from i2v.domain.pricing import PriceRule, check_rule
from i2v.domain.settings import check_configured_settings
from i2v.domain.source import KeyScope
from i2v.domain.webhooks import WebhookTarget


class _Env(BaseModel):
    # defer_build: a function validates only its own environment model; the others are never built (cold start).
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class CommonEnv(_Env):
    jobs_table_name: str = Field(alias="JOBS_TABLE_NAME", min_length=3)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    event_source: str = Field(default="i2v.pipeline", alias="EVENT_SOURCE", min_length=1)


class GmiEnv(CommonEnv):
    gmi_base_url: str = Field(default="https://console.gmicloud.ai", alias="GMI_BASE_URL")
    gmi_api_key_secret_id: str = Field(alias="GMI_API_KEY_SECRET_ID", min_length=1)
    gmi_model_id: str = Field(default=catalog.DEFAULT_MODEL_ID, alias="GMI_MODEL_ID", min_length=1)
    gmi_timeout_seconds: float = Field(default=10.0, alias="GMI_TIMEOUT_SECONDS", gt=0, le=60)

    @field_validator("gmi_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


class PollingEnv(GmiEnv):
    poll_policy: Json[PollPolicy] = Field(default_factory=PollPolicy, alias="POLL_POLICY")
    job_deadline_seconds: int = Field(default=1800, alias="JOB_DEADLINE_SECONDS", ge=1, le=21600)


class WatchEnv(PollingEnv):
    watch_queue_url: str = Field(alias="WATCH_QUEUE_URL", min_length=8)


class SubmitEnv(PollingEnv):
    input_prefix: str = Field(default="incoming/", alias="INPUT_PREFIX")
    output_bucket: str = Field(alias="OUTPUT_BUCKET", min_length=3)
    output_prefix: str = Field(default="videos/", alias="OUTPUT_PREFIX")
    max_image_bytes: int = Field(default=20 * 1024 * 1024, alias="MAX_IMAGE_BYTES", gt=0)
    # Default: the job deadline. A presigned URL dies with the role session that signed it (docs/configuration.md).
    presign_ttl_seconds: int = Field(alias="PRESIGN_TTL_SECONDS", ge=30, le=43200)
    end_frame_prefix: str = Field(default="end-frames/", alias="END_FRAME_PREFIX", min_length=1)
    # .jsonl / .csv manifests here start one job per line (i2v.domain.manifest).
    manifest_prefix: str = Field(default="manifests/", alias="MANIFEST_PREFIX", min_length=1)
    default_settings: Json[dict[str, Any]] = Field(default_factory=lambda: {"prompt": ""}, alias="DEFAULT_SETTINGS")
    prefix_presets: Json[dict[str, dict[str, Any]]] = Field(default_factory=dict, alias="PREFIX_PRESETS")
    # model id -> its price rule (cdk.json gmi_prices): beats GMI's price_info and the documented prices.
    gmi_prices: Json[dict[str, PriceRule]] = Field(default_factory=dict, alias="GMI_PRICES")
    daily_submission_cap: int = Field(default=0, alias="DAILY_SUBMISSION_CAP", ge=0)
    budget_exceeded_action: BudgetAction = Field(default=BudgetAction.REJECT, alias="BUDGET_EXCEEDED_ACTION")
    # Daily dollar budgets (issue 25): global (0 = none) and per sub-prefix under the input prefix.
    daily_budget_usd: Decimal = Field(default=Decimal(0), alias="DAILY_BUDGET_USD", ge=0, le=10_000_000)
    prefix_budgets: Json[dict[str, Decimal]] = Field(default_factory=dict, alias="PREFIX_BUDGETS")
    unpriced_jobs_under_budget: UnpricedPolicy = Field(
        default=UnpricedPolicy.REFUSE, alias="UNPRICED_JOBS_UNDER_BUDGET"
    )
    submit_rate_per_minute: int = Field(default=0, alias="SUBMIT_RATE_PER_MINUTE", ge=0, le=6000)
    gmi_outage_patience_seconds: int = Field(default=86400, alias="GMI_OUTAGE_PATIENCE_SECONDS", ge=1)
    submit_queue_url: str = Field(default="", alias="SUBMIT_QUEUE_URL")
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=20)

    @field_validator("gmi_prices")
    @classmethod
    def _prices_fit_the_catalog(cls, value: dict[str, PriceRule]) -> dict[str, PriceRule]:
        return {model_id: check_rule(model_id, rule) for model_id, rule in value.items()}

    @field_validator("prefix_budgets")
    @classmethod
    def _prefix_budgets(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for prefix, usd in value.items():
            if not prefix.endswith("/") or prefix.startswith("/"):
                raise ValueError(f"{prefix!r}: a sub-prefix under the input prefix ends with '/', e.g. 'team-a/'")
            if not 0 < usd <= 10_000_000:
                raise ValueError(f"{prefix!r}: a daily budget in dollars above 0, got {usd}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _image_url_lives_as_long_as_the_job(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("PRESIGN_TTL_SECONDS"):
            return {
                **values,
                "PRESIGN_TTL_SECONDS": values.get("JOB_DEADLINE_SECONDS")
                or cls.model_fields["job_deadline_seconds"].default,
            }
        return values

    @model_validator(mode="after")
    def _defaults_are_valid_settings(self) -> Self:
        # Checked now (against the deployment's model and each preset's model) rather than per upload.
        check_configured_settings(self.gmi_model_id, self.default_settings, self.prefix_presets)
        return self

    @property
    def scope(self) -> KeyScope:
        return KeyScope(self.input_prefix, self.output_bucket, self.output_prefix, self.manifest_prefix)

    def options(self) -> SubmitOptions:
        return SubmitOptions.model_validate(self)


class CompleteEnv(GmiEnv):
    input_prefix: str = Field(default="incoming/", alias="INPUT_PREFIX")
    output_bucket: str = Field(alias="OUTPUT_BUCKET", min_length=3)
    output_prefix: str = Field(default="videos/", alias="OUTPUT_PREFIX")
    video_host_allowlist: str = Field(alias="VIDEO_HOST_ALLOWLIST", min_length=1)
    allow_private_video_addresses: bool = Field(default=False, alias="ALLOW_PRIVATE_VIDEO_ADDRESSES")
    max_video_bytes: int = Field(default=4 * 1024**3, alias="MAX_VIDEO_BYTES", gt=0)
    video_part_size_bytes: int = Field(default=8 * 1024 * 1024, alias="VIDEO_PART_SIZE_BYTES", ge=5 * 1024 * 1024)

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        return tuple(host.strip().lower() for host in self.video_host_allowlist.split(",") if host.strip())

    def options(self) -> CompleteOptions:
        return CompleteOptions.model_validate(self)


class FailEnv(CommonEnv):
    pass


class SweeperEnv(CommonEnv):
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=20)
    submit_queue_url: str = Field(alias="SUBMIT_QUEUE_URL", min_length=8)
    # How long a submit-queue message may still move a job (i2v.domain.sweep.SweepWindows).
    sweep_submit_message_seconds: int = Field(alias="SWEEP_SUBMIT_MESSAGE_SECONDS", ge=60)
    sweep_limit_per_status: int = Field(default=100, alias="SWEEP_LIMIT_PER_STATUS", ge=1, le=1000)


class PreviewsEnv(CommonEnv):
    """The previews function reads the video where the Succeeded event says it is: no bucket of its own."""


class WebhookEnv(_Env):
    """The signer's receivers: WEBHOOKS = {"name": {"url": ..., "secret_arn": ...}} (no secret values)."""

    webhooks: Json[dict[str, WebhookTarget]] = Field(alias="WEBHOOKS")
