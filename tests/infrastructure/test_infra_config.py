"""The typed configuration: cdk.json is valid, defaults match it, and bad values fail with the key named."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from i2v_infra.config import ConfigError, PipelineConfig
from i2v_infra.paths import CDK_JSON

REPO_ROOT = Path(__file__).resolve().parents[2]


def cdk_json_config() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["i2v"]  # type: ignore[no-any-return]


def build(**overrides: Any) -> PipelineConfig:
    return PipelineConfig.from_context(cdk_json_config(), overrides)


def test_cdk_json_is_valid_and_equals_the_model_defaults() -> None:
    assert PipelineConfig.from_context(cdk_json_config()) == PipelineConfig()


def test_cdk_json_lists_every_key() -> None:
    assert set(cdk_json_config()) == set(PipelineConfig.model_fields)


def test_readme_documents_every_key_with_its_default() -> None:
    doc = (REPO_ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+?) \|", doc, flags=re.MULTILINE))
    assert set(rows) == set(PipelineConfig.model_fields)
    defaults = cdk_json_config()
    for key, shown in rows.items():
        if isinstance(defaults[key], int | str) and not isinstance(defaults[key], bool):
            assert str(defaults[key]) in shown, f"README.md shows {shown!r} for {key}"


def test_presigned_url_lifetime_covers_the_job_deadline_by_default() -> None:
    assert build().image_url_ttl_seconds == build().job_deadline_seconds
    assert build(job_deadline_seconds=21600).image_url_ttl_seconds == 21600
    assert build(job_deadline_seconds=21600, presign_ttl_seconds=600).image_url_ttl_seconds == 600


def test_json_env_is_compact_and_sorted() -> None:
    config = PipelineConfig()
    assert json.loads(config.json_env("poll_policy")) == config.poll_policy
    assert " " not in config.json_env("prefix_presets")


def test_dollar_budgets_reach_the_submit_function_as_it_validates_them() -> None:
    from i2v.config import SubmitEnv

    config = build(daily_budget_usd=12.5, prefix_budgets={"team-a/": 2.25}, unpriced_jobs_under_budget="allow")
    env = SubmitEnv.model_validate(
        {
            "JOBS_TABLE_NAME": "jobs",
            "EVENT_BUS_NAME": "bus",
            "GMI_API_KEY_SECRET_ID": "s",
            "OUTPUT_BUCKET": "out",
            "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:poll",
            "DAILY_BUDGET_USD": str(config.daily_budget_usd),
            "PREFIX_BUDGETS": config.json_env("prefix_budgets"),
            "UNPRICED_JOBS_UNDER_BUDGET": config.unpriced_jobs_under_budget,
        }
    )
    assert (str(env.daily_budget_usd), {k: str(v) for k, v in env.prefix_budgets.items()}) == (
        "12.5",
        {"team-a/": "2.25"},
    )
    assert env.unpriced_jobs_under_budget == "allow"


def test_gmi_prices_reach_the_functions_as_given() -> None:
    prices = {"wan2.6-i2v": {"unit": "second", "rates": [{"when": {"resolution": "1080P"}, "usd": 0.1}]}}
    assert json.loads(build(gmi_prices=prices).json_env("gmi_prices")) == prices


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"submit_concurrency": 1}, "i2v.submit_concurrency: Input should be greater than or equal to 2"),
        # Throttled receives count towards maxReceiveCount: AWS's guidance is at least 5 (issue 24, defect 3).
        ({"max_receive_count": 4}, "i2v.max_receive_count: Input should be greater than or equal to 5"),
        ({"watch_concurrency": 1}, "i2v.watch_concurrency: Input should be greater than or equal to 2"),
        ({"watch_concurrency": 1001}, "i2v.watch_concurrency: Input should be less than or equal to 1000"),
        ({"default_settings": {"quality": "4k"}}, "i2v: default_settings: model 'pixverse-v5.5-i2v': quality"),
        ({"default_settings": {"duration": "10", "quality": "1080p"}}, 'not available at quality "1080p"'),
        ({"default_settings": {"colour": "red"}}, "has no setting 'colour'"),
        ({"model_id": "sora-9"}, "unknown model 'sora-9'"),
        (
            {"prefix_presets": {"w/": {"model": "wan2.6-i2v", "duration": "5"}}},
            "i2v: prefix_presets['w/']: model 'wan2.6-i2v': duration",
        ),
        ({"prefix_presets": {"anime": {"style": "anime"}}}, "must be a sub-prefix under input_prefix ending with '/'"),
        (
            {"prefix_presets": {"x/": {"style": "watercolour"}}},
            "prefix_presets['x/']: model 'pixverse-v5.5-i2v': style",
        ),
        ({"prefix_presets": {"hd/": {"quality": "1080p", "duration": "10"}}}, "prefix_presets['hd/']"),
        ({"input_prefix": "incoming"}, "i2v.input_prefix: must be a non-empty S3 key prefix"),
        ({"output_prefix": ""}, "i2v.output_prefix"),
        ({"allowed_suffixes": ["jpg"]}, "'jpg' is not a file suffix"),
        ({"allowed_suffixes": [".jpg", ".thumb.jpg"]}, "overlap"),
        ({"allowed_suffixes": []}, "at least one suffix"),
        ({"allowed_suffixes": [".jpg", ".JSON"]}, "settings sidecars"),
        ({"manifest_prefix": "incoming/batches/"}, "manifest_prefix and input_prefix must not overlap"),
        ({"manifest_prefix": "manifests"}, "i2v.manifest_prefix: must be a non-empty S3 key prefix"),
        ({"max_image_bytes": 0}, "i2v.max_image_bytes"),
        ({"presign_ttl_seconds": 43201}, "i2v.presign_ttl_seconds: Input should be less than or equal to 43200"),
        ({"end_frame_prefix": "incoming/frames/"}, "end_frame_prefix and input_prefix must not overlap"),
        ({"poll_policy": {"min_wait_seconds": 90}}, "i2v.poll_policy: need min_wait_seconds"),
        ({"poll_policy": {"sleepiness": 3}}, "i2v.poll_policy: sleepiness"),
        ({"job_deadline_seconds": 10}, "i2v.job_deadline_seconds"),
        ({"daily_submission_cap": -1}, "i2v.daily_submission_cap"),
        ({"budget_exceeded_action": "ignore"}, "i2v.budget_exceeded_action"),
        ({"daily_budget_usd": -1}, "i2v.daily_budget_usd: Input should be greater than or equal to 0"),
        ({"prefix_budgets": {"team-a": 5}}, "i2v.prefix_budgets: 'team-a' must be a sub-prefix under input_prefix"),
        ({"prefix_budgets": {"team-a/": 0}}, "i2v.prefix_budgets: 'team-a/': a daily budget in dollars above 0"),
        ({"unpriced_jobs_under_budget": "guess"}, "i2v.unpriced_jobs_under_budget"),
        ({"video_host_allowlist": ["https://storage.googleapis.com"]}, "is not a lower-case host name"),
        ({"alarm_email": "ops"}, "i2v.alarm_email: 'ops' is not an e-mail address"),
        ({"log_retention_days": 31}, "i2v.log_retention_days: must be one of the CloudWatch Logs retention"),
        ({"gmi_base_url": "http://console.gmicloud.ai"}, "i2v.gmi_base_url: must be an https:// origin"),
        ({"model": "x"}, "i2v.model: Extra inputs are not permitted"),
        ({"video_part_size_bytes": 1024}, "i2v.video_part_size_bytes"),
        (
            {"gmi_prices": {"sora-9": {"unit": "video", "rates": [{"usd": 1}]}}},
            "i2v.gmi_prices: unknown model 'sora-9'",
        ),
        (
            {"gmi_prices": {"wan2.6-i2v": {"unit": "video", "rates": [{"when": {"resolution": "4k"}, "usd": 1}]}}},
            "i2v.gmi_prices: wan2.6-i2v: rates[0].when.resolution: '4k' is not accepted",
        ),
        ({"gmi_prices": {"wan2.6-i2v": {"unit": "video"}}}, "i2v.gmi_prices: wan2.6-i2v: rates: Field required"),
        ({"prefix_presets": {f"p{i}/": {"prompt": "x" * 100} for i in range(40)}}, "Lambda's limit is 4 KB"),
    ],
)
def test_invalid_values_name_the_key(overrides: dict[str, Any], message: str) -> None:
    from i2v_infra.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        build(**overrides)
    assert message in str(caught.value)


def test_overrides_may_be_a_json_string_and_empty_email_means_none() -> None:
    config = PipelineConfig.from_context(cdk_json_config(), '{"alarm_email": "", "submit_concurrency": 10}')
    assert config.alarm_email is None
    assert config.submit_concurrency == 10


def test_non_object_context_is_rejected() -> None:
    from i2v_infra.config import ConfigError

    with pytest.raises(ConfigError, match="context key 'i2v' must be a JSON object"):
        PipelineConfig.from_context(["not", "an", "object"])
    with pytest.raises(ConfigError, match="'i2v_overrides' is not valid JSON"):
        PipelineConfig.from_context({}, "{oops")


def test_workflow_timeout_is_deadline_plus_margin() -> None:
    config = build(job_deadline_seconds=600, workflow_timeout_margin_seconds=1800)
    assert config.workflow_timeout_seconds(worst_case_tail_seconds=1000) == 2400
    assert config.workflow_timeout_seconds(worst_case_tail_seconds=5000) == 5600


@pytest.mark.parametrize("model_id", ["veo-3.1-fast-generate-001", "kling-v3-image-to-video", "wan2.6-i2v"])
def test_changing_only_the_model_keeps_the_shipped_configuration_valid(model_id: str) -> None:
    """Issue 28, stumble 9: switching `model_id` alone used to fail on pixverse-shaped default_settings."""
    context = json.loads(CDK_JSON.read_text())["context"]["i2v"]
    assert PipelineConfig.from_context(context, {"model_id": model_id}).model_id == model_id


def test_unknown_settings_are_named_together_with_the_models_settings_once() -> None:
    with pytest.raises(ConfigError) as error:
        PipelineConfig.from_context({}, {"default_settings": {"prompt": "p", "colour": "red", "mood": "calm"}})
    message = str(error.value)
    assert "has no settings 'colour', 'mood'; its settings: prompt," in message
    assert message.count("its settings") == 1
