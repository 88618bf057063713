"""The Manifest Completed event (`Video Manifest Completed`, kind `manifest_completed`).

The kind's whole subscriber contract: its detail model, its whole event (Powertools' `EventBridgeModel`, built
when first read), its webhook message, one sample event and the text of its row in docs/subscribers.md. The
registry, `i2v_events.v1.kinds`, lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from i2v_events.v1.fields import Detail, Kind, Timestamp, Webhook

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

__all__ = ["ManifestCompleted", "ManifestCompletedDetail", "ManifestCompletedWebhook", "ManifestRef"]


class ManifestRef(Detail):
    """The manifest object (`.jsonl` or `.csv`) whose lines started the jobs."""

    bucket: str
    key: str
    version_id: str | None


class ManifestCompletedDetail(Detail):
    """Every line of a manifest has ended (added in v1): each line's job ended (succeeded, failed, timed_out or
    rejected: those jobs' own events say which), its image was missing, or its image already had a job. Not a job
    event: no `job_id`; the counts come from the manifest's summary record."""

    schema_version: Literal["1"]
    manifest_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    manifest: ManifestRef
    occurred_at: Timestamp
    lines: int = Field(ge=0, description="lines that became job messages (a good line of the manifest)")
    ended: int = Field(ge=0, description="of those, lines whose end was counted (every one, by now)")
    bad_lines: int = Field(ge=0, description="lines rejected with their line number (in the summary record)")


class ManifestCompletedWebhook(Webhook):
    type: Literal["video.manifest_completed"]
    data: ManifestCompletedDetail


SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "55555555-5555-4555-8555-555555555555",
    "detail-type": "Video Manifest Completed",
    "source": "i2v.pipeline",
    "account": "123456789012",
    "time": "2026-12-07T10:15:42Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "schema_version": "1",
        "manifest_id": "0c4d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
        "manifest": {
            "bucket": "my-input-bucket",
            "key": "manifests/2026-12-07-shoot.jsonl",
            "version_id": "Wq8Ef0.a9Yk1VxLr2t",
        },
        "occurred_at": "2026-12-07T11:02:10.500Z",
        "lines": 98,
        "ended": 98,
        "bad_lines": 2,
    },
}

KIND = Kind(
    module=__name__,
    detail_type="Video Manifest Completed",
    when=(
        "every line of a manifest (README, Settings per image) has ended; not a job event: de-duplicate on "
        "`detail.manifest_id` (added in v1; not offered to webhooks)"
    ),
    detail=ManifestCompletedDetail,
    webhook=ManifestCompletedWebhook,
    event_name="ManifestCompleted",
    sample=SAMPLE,
)

if TYPE_CHECKING:

    class ManifestCompleted(EventBridgeModel):
        """At run time `KIND.module_getattr()` builds this model when it is first read (a test compares them)."""

        detail_type: Literal["Video Manifest Completed"] = Field(alias="detail-type")
        detail: ManifestCompletedDetail

else:
    __getattr__ = KIND.module_getattr()
