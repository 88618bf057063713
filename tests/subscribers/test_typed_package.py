"""The typed subscriber package (packages/i2v-events): parsing, tolerance, Powertools Parser, independence."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import envelopes, parse
from pydantic import ValidationError

from i2v_events import parse_event, parse_webhook
from i2v_events.v1 import (
    DetailType,
    FailedDetail,
    FailureCategory,
    SucceededDetail,
    VideoFailed,
    VideoSubmitted,
    VideoSucceeded,
)
from i2v_events.v1.details import DETAIL_KINDS

PACKAGE = Path(__file__).parents[2] / "packages" / "i2v-events"
JOB = "0123456789abcdef0123456789abcdef"
SOURCE = {"bucket": "in", "key": "incoming/cat.png", "version_id": "v1"}


def event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "i2v.pipeline",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def base(status: str) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "job_id": JOB,
        "attempt": 1,
        "status": status,
        "source": SOURCE,
        "model": "pixverse-v5.5-i2v",
        "occurred_at": "2026-01-01T00:00:00.000Z",
    }


SETTINGS = {"prompt": "a cat", "duration": "5", "aspect_ratio": "16:9", "quality": "720p", "seed": 42}
OUTPUT = {"bucket": "out", "key": "videos/cat.mp4", "size": 1024, "content_type": "video/mp4"}
SUBMITTED = event(DetailType.SUBMITTED, {**base("submitted"), "request_id": "r-1", "settings": SETTINGS})
SUCCEEDED = event(
    DetailType.SUCCEEDED, {**base("succeeded"), "request_id": "r-1", "output": OUTPUT, "generation_seconds": 12.5}
)
FAILED = event(
    DetailType.FAILED, {**base("failed"), "request_id": None, "failure": {"category": "budget", "message": "cap"}}
)


def test_a_submitted_event_of_another_model_parses_with_its_own_settings() -> None:
    # veo 3.1 documents an integer duration and a resolution: the open `settings` carries them as sent.
    veo = {"prompt": "a cat", "duration": 8, "resolution": "1080p", "generateAudio": False}
    detail = {**base("submitted"), "model": "veo-3.1-fast-generate-001", "request_id": "r-2", "settings": veo}
    submitted = parse_event(event(DetailType.SUBMITTED, detail))
    assert isinstance(submitted, VideoSubmitted)
    assert submitted.detail.settings.model_extra == {"duration": 8, "resolution": "1080p", "generateAudio": False}


def test_each_event_parses_to_its_model() -> None:
    submitted, succeeded, failed = parse_event(SUBMITTED), parse_event(json.dumps(SUCCEEDED)), parse_event(FAILED)
    assert isinstance(submitted, VideoSubmitted)
    assert submitted.detail.settings.prompt == "a cat"
    assert submitted.detail.settings.model_extra == {
        "duration": "5",
        "aspect_ratio": "16:9",
        "quality": "720p",
        "seed": 42,
    }
    assert isinstance(succeeded, VideoSucceeded)
    assert succeeded.detail.output.key == "videos/cat.mp4"
    assert succeeded.detail.poster is None
    assert isinstance(failed, VideoFailed)
    assert failed.detail.failure.category is FailureCategory.BUDGET


def test_richer_succeeded_fields_parse() -> None:
    detail = {
        **SUCCEEDED["detail"],
        "output": {**OUTPUT, "duration_seconds": 5.04, "width": 1280, "height": 720},
        "poster": {"bucket": "out", "key": "videos/cat.jpg", "size": 99, "content_type": "image/jpeg"},
    }
    parsed = parse_event(event(DetailType.SUCCEEDED, detail))
    assert isinstance(parsed, VideoSucceeded)
    assert (parsed.detail.output.width, parsed.detail.output.height) == (1280, 720)
    assert parsed.detail.poster is not None
    assert parsed.detail.poster.key == "videos/cat.jpg"


def test_reads_additions_made_later_in_v1() -> None:
    # A newer pipeline may add fields and enum values (v1 is additive); an older subscriber must still read it.
    detail = {**FAILED["detail"], "brand_new": {"x": 1}, "failure": {"category": "some_new_reason", "message": "m"}}
    parsed = parse_event(event(DetailType.FAILED, detail))
    assert isinstance(parsed.detail, FailedDetail)
    assert parsed.detail.failure.category == "some_new_reason"


@pytest.mark.parametrize(
    ("change", "value"),
    [("schema_version", "2"), ("job_id", "not-a-job-id"), ("attempt", 0), ("output", None)],
)
def test_rejects_what_is_not_v1(change: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        parse_event(event(DetailType.SUCCEEDED, {**SUCCEEDED["detail"], change: value}))


def test_rejects_other_detail_types() -> None:
    with pytest.raises(ValidationError):
        parse_event(event("Object Created", SUCCEEDED["detail"]))


def test_usable_with_powertools_parser_models_and_envelopes() -> None:
    whole = parse(event=SUCCEEDED, model=VideoSucceeded)
    assert whole.detail.output.size == 1024
    detail = parse(event=SUCCEEDED, model=SucceededDetail, envelope=envelopes.EventBridgeEnvelope)
    assert detail.request_id == "r-1"
    # Rule -> SQS -> Lambda: the body of each record is the EventBridge event.
    sqs_event = {"Records": [_sqs_record(SUCCEEDED), _sqs_record(FAILED)]}
    with pytest.raises(ValidationError):  # the envelope applies one model to every record
        parse(event=sqs_event, model=VideoSucceeded, envelope=envelopes.SqsEnvelope)
    sqs_event["Records"] = [_sqs_record(SUCCEEDED)]
    (record,) = parse(event=sqs_event, model=VideoSucceeded, envelope=envelopes.SqsEnvelope)
    assert record.detail.job_id == JOB


def test_webhook_body_parses_by_type() -> None:
    body = json.dumps({"type": "video.failed", "timestamp": "2026-01-01T00:00:00Z", "data": FAILED["detail"]})
    message = parse_webhook(body)
    assert isinstance(message.data, FailedDetail)
    with pytest.raises(ValueError, match="not a pipeline webhook"):
        parse_webhook(json.dumps({"type": "other", "data": {}}))
    with pytest.raises(ValidationError):  # a type naming another detail than the one sent
        parse_webhook(body.replace("video.failed", "video.succeeded"))


def test_every_event_kind_has_a_webhook_message_whose_type_narrows_its_data() -> None:
    """Issue 28, stumble 13: `type` was a plain str, so `message.data` needed narrowing by isinstance; and a
    kind added later (preview_ready) had no model its data could parse with."""
    from typing import get_args

    from i2v_events.v1.details import DETAIL_KINDS, DETAIL_MODELS
    from i2v_events.webhooks import AnyWebhook

    by_type = {m.model_fields["type"].annotation: m for m in get_args(AnyWebhook)}
    assert {get_args(t)[0] for t in by_type} == {f"video.{kind}" for kind in DETAIL_KINDS}
    for literal, model in by_type.items():
        kind = get_args(literal)[0].removeprefix("video.")
        assert model.model_fields["data"].annotation is DETAIL_MODELS[DETAIL_KINDS[kind]]
    message = parse_webhook(
        json.dumps({"type": "video.failed", "timestamp": "2026-01-01T00:00:00Z", "data": FAILED["detail"]})
    )
    assert message.type == "video.failed"
    assert type(message).__name__ == "FailedWebhook"


def test_package_stands_alone() -> None:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    names = {dep.split(">")[0].split("=")[0].split("<")[0].strip() for dep in project["dependencies"]}
    assert names == {"pydantic", "aws-lambda-powertools"}
    # It works where boto3, botocore and the CDK are not installed: here they are made unimportable.
    code = f"""
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('boto3', 'botocore', 'aws_cdk', 'i2v'):
            raise ImportError(name + ' is not installed')
sys.meta_path.insert(0, Absent())
sys.path.insert(0, {str(PACKAGE / "src")!r})
import i2v_events, i2v_events.schemas
print(type(i2v_events.parse_event({json.dumps(SUCCEEDED)!r})).__name__)
"""
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "VideoSucceeded"


# What 1.0.0 exported: every name stays (1.x is additive); the pixverse enums of v1 only warn now.
EXPORTED_1_0 = {
    "i2v_events": "AnyWebhook DetailType FailedDetail FailedWebhook FailureCategory ManifestCompleted "
    "ManifestCompletedDetail ManifestCompletedWebhook PipelineEvent PreviewReadyDetail PreviewReadyWebhook "
    "SubmittedDetail SubmittedWebhook SucceededDetail SucceededWebhook VideoFailed VideoPreviewReady VideoSubmitted "
    "VideoSucceeded WebhookMessage parse_event parse_webhook",
    "i2v_events.v1": "DETAIL_KINDS DETAIL_MODELS SCHEMA_VERSION AspectRatio DetailType Duration FailedDetail "
    "FailedStatus FailureCategory FailureInfo ManifestCompleted ManifestCompletedDetail ManifestRef OutputRef "
    "PipelineEvent PosterRef PreviewReadyDetail PreviewsRef PriceSource Quality Settings SourceRef Style "
    "SubmittedDetail SucceededDetail ThinkingType VideoFailed VideoPreviewReady VideoSubmitted VideoSucceeded "
    "parse_event",
}


@pytest.mark.parametrize("module", sorted(EXPORTED_1_0))
def test_every_name_1_0_exported_is_still_exported(module: str) -> None:
    exported = importlib.import_module(module)
    assert set(EXPORTED_1_0[module].split()) <= set(exported.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert all(getattr(exported, name) is not None for name in exported.__all__)


def test_the_pixverse_enums_warn_that_they_are_deprecated() -> None:
    import i2v_events.v1

    with pytest.warns(DeprecationWarning, match="removed in 2.0"):
        assert i2v_events.v1.Duration("5") == "5"


def test_the_details_load_without_powertools_parser_models() -> None:
    """The pipeline's functions import the details on every cold start; the whole-event models (Powertools'
    parser models, tens of milliseconds) load only when a subscriber reads one."""
    code = f"""
import sys
sys.path.insert(0, {str(PACKAGE / "src")!r})
import i2v_events, i2v_events.v1.details, i2v_events.webhooks, i2v_events.v1.kinds.succeeded
import i2v_events.samples, i2v_events.schemas
i2v_events.samples.sample_event("succeeded"), i2v_events.schemas.detail_schema("succeeded")
parser = "aws_lambda_powertools.utilities.parser.models"
print(parser in sys.modules, end=" ")
from i2v_events import VideoSucceeded
print(parser in sys.modules)
"""
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"


def _sqs_record(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": "m",
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "s",
            "ApproximateFirstReceiveTimestamp": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


@pytest.mark.parametrize("kind", sorted(DETAIL_KINDS))
def test_the_package_ships_a_sample_of_each_event_kind_that_parses_and_meets_its_schema(kind: str) -> None:
    """Issue 28, stumble 13: the package shipped no sample event."""
    from jsonschema import Draft4Validator

    from i2v_events.samples import sample_event
    from i2v_events.schemas import registry_schema

    sample = sample_event(kind)
    parsed = parse_event(sample)
    assert parsed.detail_type == DETAIL_KINDS[kind]
    Draft4Validator(registry_schema(kind, "i2v.pipeline")).validate(sample)
