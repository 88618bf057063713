"""Typed configuration of the pipeline, read from the `i2v` object of the cdk.json context.

Every key is documented in docs/configuration.md (a test keeps that table and this model in sync).
Errors name the offending key, e.g. ``i2v.submit_concurrency: Input should be greater than or equal to 2``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from i2v.domain import catalog
from i2v.domain.pricing import configured_rules
from i2v_infra.aws_limits import S3_MAX_PARTS, SFN_MAX_HISTORY_EVENTS, video_parts, worst_case_history_events
from i2v_infra.settings_check import check_poll_policy, check_settings
from i2v_infra.webhook_config import Webhooks

CONTEXT_KEY = "i2v"
OVERRIDES_CONTEXT_KEY = "i2v_overrides"

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192)
# Lambda caps the environment of one function at 4 KB; the JSON blobs are the variable part.
MAX_JSON_ENV_BYTES = 2800

_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PREFIX = re.compile(r"^([A-Za-z0-9!_.*'()-]+/)*$")
_SUFFIX = re.compile(r"^(\.[A-Za-z0-9_-]{1,16}){1,3}$")
# S3 general purpose bucket names (AWS "Bucket naming rules"): 3-63 of a-z 0-9 . -, a letter or digit at each end.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_BUS_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,256}$")  # AWS::Events::EventBus Name
# A key ARN (a single-Region key id or a multi-Region mrk- id); aliases are refused: IAM grants need the key's ARN.
_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)

# A prompt for unlabelled uploads; every other setting is the model's own default, so changing `model_id` alone
# keeps the configuration valid.
DEFAULT_MODEL_ID = catalog.DEFAULT_MODEL_ID
PRESIGN_TTL_MAX_SECONDS = 43200
DEFAULT_SETTINGS: dict[str, Any] = {
    "prompt": "Bring the scene to life with natural, subtle motion and cinematic lighting"
}
# Pixverse settings, so the presets name their model (and keep working whatever `model_id` is).
DEFAULT_PRESETS: dict[str, dict[str, Any]] = {
    "anime/": {"model": DEFAULT_MODEL_ID, "style": "anime"},
    "vertical/": {"model": DEFAULT_MODEL_ID, "aspect_ratio": "9:16"},
}
# Empty: the domain's PollPolicy defaults (tuned by `make bench`) apply; set fields only to override them.
DEFAULT_POLL_POLICY: dict[str, Any] = {}
DEFAULT_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".JPG", ".JPEG", ".PNG", ".WEBP")


class ConfigError(ValueError):
    """The cdk.json context (or construct props) do not form a valid configuration."""


class PipelineConfig(BaseModel):
    """Settings of one deployment. Defaults match the cdk.json shipped in the repository."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stack_name: str = Field("ImageToVideoPipeline", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
    model_id: str = Field(DEFAULT_MODEL_ID, min_length=1, max_length=128)
    gmi_base_url: str = "https://console.gmicloud.ai"
    gmi_timeout_seconds: int = Field(10, ge=1, le=20)
    default_settings: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    prefix_presets: dict[str, dict[str, Any]] = Field(default_factory=lambda: dict(DEFAULT_PRESETS))
    input_prefix: str = "incoming/"
    output_prefix: str = "videos/"
    allowed_suffixes: tuple[str, ...] = DEFAULT_SUFFIXES
    max_image_bytes: int = Field(20 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    # None: the job deadline (GMI may fetch the image whenever the job leaves its queue). At most 12 h, the
    # longest an IAM role session (the credentials that sign the URL) can last: docs/configuration.md.
    presign_ttl_seconds: int | None = Field(None, ge=30, le=PRESIGN_TTL_MAX_SECONDS)
    end_frame_prefix: str = "end-frames/"
    # .jsonl / .csv manifests here start one job per line; images they name may live here too (no job of their own).
    manifest_prefix: str = "manifests/"
    poll_policy: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_POLL_POLICY))
    # <= 6 h; with the poll_policy it must also fit Step Functions' history (checked below, aws_limits).
    job_deadline_seconds: int = Field(1800, ge=60, le=21600)
    workflow_timeout_margin_seconds: int = Field(3600, ge=1800, le=86400)
    submit_concurrency: int = Field(2, ge=2, le=1000)
    submit_batch_size: int = Field(5, ge=1, le=10)
    # >= 5: a receive Lambda's poller could not hand to the function (throttled) still counts (AWS's guidance).
    max_receive_count: int = Field(5, ge=5, le=1000)
    # The watch function's event source MaximumConcurrency: what the looks may take of the account's concurrency.
    watch_concurrency: int = Field(50, ge=2, le=1000)
    # How often EventBridge Scheduler runs the sweeper (docs/architecture.md, "The sweeper").
    sweep_interval_minutes: int = Field(5, ge=1, le=60)
    daily_submission_cap: int = Field(0, ge=0)
    # GMI limits video requests per organisation; 0 sends as fast as submit_concurrency allows.
    submit_rate_per_minute: int = Field(0, ge=0, le=6000)
    # How long uploads wait out a GMI that accepts nothing (refused, 429, 503) before failing gmi_unavailable.
    gmi_outage_patience_seconds: int = Field(86400, ge=900, le=14 * 86400)
    budget_exceeded_action: Literal["reject", "defer"] = "reject"
    # Daily dollar budgets (i2v.domain.budgets): the UTC day's GMI spend, global (0 = none) and per sub-prefix.
    daily_budget_usd: float = Field(0, ge=0, le=10_000_000)
    prefix_budgets: dict[str, float] = Field(default_factory=dict)
    unpriced_jobs_under_budget: Literal["refuse", "allow"] = "refuse"
    # model id -> price rule (i2v.domain.pricing.PriceRule); beats GMI's price_info and the documented prices.
    gmi_prices: dict[str, dict[str, Any]] = Field(default_factory=dict)
    video_host_allowlist: tuple[str, ...] = ("storage.googleapis.com", "*.storage.googleapis.com")
    max_video_bytes: int = Field(4 * 1024**3, ge=1024, le=50 * 1024**3)
    video_part_size_bytes: int = Field(8 * 1024 * 1024, ge=5 * 1024 * 1024, le=512 * 1024 * 1024)
    alarm_email: str | None = None
    log_retention_days: int = 30
    access_log_retention_days: int = Field(365, ge=1)
    noncurrent_version_retention_days: int = Field(30, ge=1)
    event_archive_retention_days: int = Field(90, ge=0)
    event_source: str = Field("i2v.pipeline", pattern=r"^[a-zA-Z0-9._-]{1,256}$")
    retain_data: bool = True
    # X-Ray SDK subsegments (each AWS and GMI call) on top of Lambda's own active tracing; off by default:
    # the SDK is in maintenance mode (end of support 2027-02-25) and costs every cold start ~35 ms.
    xray_sdk_tracing: bool = False
    # Each SQS-triggered look starts its own X-Ray trace ($5 per million): off, the watch function traces only
    # what arrives sampled (PassThrough), i.e. none of its looks (docs/deploy.md, "What it costs per month").
    trace_looks: bool = False
    # The operations dashboard: $3.00 a month at list price, the largest fixed item of an idle stack.
    dashboard: bool = False
    # Encrypt the alarm topic at rest with a customer managed key: $1.00 a month (alarm notifications hold no job
    # data or secrets, and travel over TLS either way).
    alarm_topic_cmk: bool = False
    # by-source and by-status projecting every attribute, as stacks deployed before issue 25 were built:
    # CloudFormation cannot change an index's projection in place (docs/deploy.md, "Updating").
    wide_indexes: bool = False
    webhooks: Webhooks = ()
    # ---- bring your own resources (docs/deploy.md, "Bring your own resources"); None: the stack creates its own.
    # An existing bucket (this account and region, versioned) whose uploads under input_prefix start jobs: we add
    # its S3 notifications and our read grants, nothing else.
    input_bucket_name: str | None = None
    # An existing bucket the videos, posters and previews are written to, under output_prefix (grants scoped to it).
    output_bucket_name: str | None = None
    # An existing EventBridge bus (this account and region) our events go to; the archive, schema registry and
    # rules stay ours, on that bus.
    event_bus_name: str | None = None
    # A customer managed KMS key for the table, queues, alarm topic and buckets the stack creates.
    kms_key_arn: str | None = None

    # ---- field checks -------------------------------------------------------------------------

    @field_validator("gmi_base_url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?", value.rstrip("/")):
            raise ValueError("must be an https:// origin without a path, e.g. https://console.gmicloud.ai")
        return value.rstrip("/")

    @field_validator("input_prefix", "output_prefix", "end_frame_prefix", "manifest_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or not _PREFIX.fullmatch(value):
            raise ValueError("must be a non-empty S3 key prefix of safe characters ending with '/', e.g. 'incoming/'")
        return value

    @field_validator("allowed_suffixes")
    @classmethod
    def _suffixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one suffix, e.g. ['.jpg', '.png']")
        for suffix in value:
            if not _SUFFIX.fullmatch(suffix):
                raise ValueError(f"{suffix!r} is not a file suffix like '.jpg'")
            if suffix.lower() == ".json":
                raise ValueError("'.json' objects are settings sidecars, never images: they start no job")
        for a in value:
            for b in value:
                # S3 rejects notification filters that overlap (".jpg" and ".JPG" do not).
                if a != b and b.endswith(a):
                    raise ValueError(f"{a!r} and {b!r} overlap; S3 rejects overlapping suffix filters")
        if len(set(value)) != len(value):
            raise ValueError("contains duplicates")
        return value

    @field_validator("video_host_allowlist")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one host (exact host or '*.suffix')")
        for host in value:
            if not _HOST.fullmatch(host):
                raise ValueError(f"{host!r} is not a lower-case host name or '*.suffix' pattern")
        return value

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("input_bucket_name", "output_bucket_name")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _BUCKET.fullmatch(value) or ".." in value or _IPV4.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an S3 bucket name (3-63 characters: lower-case letters, digits, '.' and '-'); "
                "give the bucket's name, not its ARN"
            )
        return value

    @field_validator("event_bus_name")
    @classmethod
    def _bus_name(cls, value: str | None) -> str | None:
        if value is not None and not _BUS_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an EventBridge bus name; give the name of a bus in this account and region"
            )
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _key_arn(cls, value: str | None) -> str | None:
        if value is not None and not _KEY_ARN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID); an alias or a bare key id "
                "will not do: IAM grants need the key's ARN"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of the CloudWatch Logs retention periods {LOG_RETENTION_DAYS}")
        return value

    @field_validator("poll_policy")
    @classmethod
    def _poll_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The same model (i2v.domain.polling.PollPolicy) validates POLL_POLICY again at Lambda init.
        check_poll_policy(value)
        return value

    @field_validator("gmi_prices")
    @classmethod
    def _prices(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # The same check (i2v.domain.pricing) runs again when the submit function reads GMI_PRICES.
        configured_rules(value)
        return value

    @field_validator("prefix_budgets")
    @classmethod
    def _prefix_budgets(cls, value: dict[str, float]) -> dict[str, float]:
        for prefix, usd in value.items():
            if not prefix or prefix.startswith("/") or not _PREFIX.fullmatch(prefix):
                raise ValueError(f"{prefix!r} must be a sub-prefix under input_prefix ending with '/', e.g. 'team-a/'")
            if not 0 < usd <= 10_000_000:
                raise ValueError(f"{prefix!r}: a daily budget in dollars above 0, got {usd}")
        return value

    # ---- cross-field checks -------------------------------------------------------------------

    @model_validator(mode="after")
    def _cross_checks(self) -> PipelineConfig:
        for sub_prefix in self.prefix_presets:
            if not sub_prefix or sub_prefix.startswith("/") or not _PREFIX.fullmatch(sub_prefix):
                raise ValueError(
                    f"prefix_presets key {sub_prefix!r} must be a sub-prefix under input_prefix ending with '/'"
                )
        # model_id must be in the catalog; defaults are its settings, each preset is for its own `model`.
        try:
            check_settings(self.model_id, self.default_settings)
        except ValueError as exc:
            raise ValueError(f"default_settings: {exc}") from None
        check_settings(self.model_id, self.default_settings, self.prefix_presets)  # names the preset
        size = len(self.json_env("default_settings")) + len(self.json_env("prefix_presets"))
        size += len(self.json_env("poll_policy")) + len(",".join(self.video_host_allowlist))
        size += len(self.json_env("gmi_prices")) + len(self.json_env("prefix_budgets"))
        if size > MAX_JSON_ENV_BYTES:
            raise ValueError(
                f"default_settings, prefix_presets, poll_policy, gmi_prices, prefix_budgets and video_host_allowlist together take {size} "
                f"bytes of Lambda environment; keep them under {MAX_JSON_ENV_BYTES} (Lambda's limit is 4 KB)"
            )
        if self.end_frame_prefix.startswith(self.input_prefix) or self.input_prefix.startswith(self.end_frame_prefix):
            raise ValueError("end_frame_prefix and input_prefix must not overlap (an end frame must not start a job)")
        for name in ("input_prefix", "end_frame_prefix"):
            other = getattr(self, name)
            if self.manifest_prefix.startswith(other) or other.startswith(self.manifest_prefix):
                raise ValueError(f"manifest_prefix and {name} must not overlap (their notifications differ)")
        if self.input_bucket_name is not None and self.input_bucket_name == self.output_bucket_name:
            a, b = self.input_prefix, self.output_prefix
            if a.startswith(b) or b.startswith(a):
                raise ValueError(
                    "input_bucket_name and output_bucket_name are one bucket, so input_prefix and output_prefix must "
                    "not overlap: videos written under the input prefix would be submitted again"
                )
        if self.kms_key_arn is not None and self.alarm_topic_cmk:
            raise ValueError("set kms_key_arn or alarm_topic_cmk, not both: with kms_key_arn the alarm topic uses it")
        if self.video_part_size_bytes > self.max_video_bytes:
            raise ValueError("video_part_size_bytes must not exceed max_video_bytes")
        parts = video_parts(self.max_video_bytes, self.video_part_size_bytes)
        if parts > S3_MAX_PARTS:
            raise ValueError(
                f"max_video_bytes / video_part_size_bytes is {parts} parts; S3 allows {S3_MAX_PARTS} per upload: "
                f"raise video_part_size_bytes to at least {math.ceil(self.max_video_bytes / S3_MAX_PARTS)}"
            )
        events = worst_case_history_events(self.poll_policy, self.job_deadline_seconds)
        if events > SFN_MAX_HISTORY_EVENTS:
            raise ValueError(
                f"poll_policy could write {events} Step Functions history events within job_deadline_seconds "
                f"({self.job_deadline_seconds}); the limit is {SFN_MAX_HISTORY_EVENTS}: raise min_wait_seconds, "
                "inline_max_wait_seconds or inline_budget_seconds, or shorten the deadline"
            )
        return self

    # ---- helpers ------------------------------------------------------------------------------

    def json_env(
        self, field: Literal["default_settings", "prefix_presets", "poll_policy", "gmi_prices", "prefix_budgets"]
    ) -> str:
        """The compact JSON string passed to the Lambdas (DEFAULT_SETTINGS, PREFIX_PRESETS, POLL_POLICY, GMI_PRICES,
        PREFIX_BUDGETS)."""
        return json.dumps(getattr(self, field), separators=(",", ":"), sort_keys=True)

    @property
    def image_url_ttl_seconds(self) -> int:
        """Lifetime of the presigned image URLs: by default as long as GMI has to finish the job."""
        return self.presign_ttl_seconds or self.job_deadline_seconds

    def workflow_timeout_seconds(self, worst_case_tail_seconds: int) -> int:
        """Overall state machine timeout: the job deadline plus room to download and record, never less than
        the longest the states after the deadline can legitimately take (a timeout must not beat Complete)."""
        return self.job_deadline_seconds + max(self.workflow_timeout_margin_seconds, worst_case_tail_seconds)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, *, source: str = CONTEXT_KEY) -> PipelineConfig:
        """Validate ``raw`` (the context object); raise ConfigError naming every bad key."""
        try:
            return cls.model_validate(dict(raw or {}))
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                loc = ".".join(str(part) for part in err["loc"])
                where = f"{source}.{loc}" if loc else source
                lines.append(f"  {where}: {err['msg'].removeprefix('Value error, ')}")
            what = "cdk.json context" if source == CONTEXT_KEY else "construct props"
            raise ConfigError(f"invalid pipeline configuration ({what}):\n" + "\n".join(lines)) from None

    @classmethod
    def with_props(cls, config: PipelineConfig | None, props: Mapping[str, Any]) -> PipelineConfig:
        """``config`` (else the defaults) with the construct's keyword props over it, validated like cdk.json."""
        if not props:
            return config or cls()
        base = config.model_dump(exclude_unset=True) if config else {}
        return cls.from_mapping({**base, **props}, source="props")

    @classmethod
    def from_context(cls, context: Any, overrides: Any = None) -> PipelineConfig:
        """Build from the cdk.json ``i2v`` object plus optional ``i2v_overrides`` (dict or JSON string)."""
        base = _as_mapping(context, CONTEXT_KEY)
        extra = _as_mapping(overrides, OVERRIDES_CONTEXT_KEY)
        return cls.from_mapping({**base, **extra})


def _as_mapping(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"context key {key!r} is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise ConfigError(f"context key {key!r} must be a JSON object, got {type(value).__name__}")
    return dict(value)
