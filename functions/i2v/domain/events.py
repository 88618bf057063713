"""The event details the pipeline publishes, built and validated by the models subscribers install (`i2v_events`).

One contract: each builder names the fields its detail carries, in wire order; `emitted` validates them with the
kind's model of `i2v_events.v1` and returns exactly those fields as JSON (enum values, times to the millisecond).
The models ignore unknown fields when they read, so a field a model lacks would vanish: `emitted` raises instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from i2v.domain.manifest import ManifestSummary
from i2v.domain.record import JobRecord, utc_now
from i2v_events.v1 import DETAIL_MODELS, SCHEMA_VERSION, DetailType

__all__ = [
    "DetailType",
    "EventContractError",
    "emitted",
    "failed_detail",
    "manifest_completed_detail",
    "preview_ready_detail",
    "submitted_detail",
    "succeeded_detail",
]


class EventContractError(ValueError):
    """A builder passed a field the kind's model does not have (it would be dropped on the wire)."""


def emitted(detail_type: DetailType, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` validated by `detail_type`'s model (pydantic.ValidationError if not), dumped as JSON in their order."""
    model = DETAIL_MODELS[detail_type]
    dumped = model.model_validate(fields).model_dump(mode="json", exclude_unset=True)
    return _as_given(fields, dumped, f"{model.__name__}")


def _as_given(given: Mapping[str, Any], dumped: dict[str, Any], path: str) -> dict[str, Any]:
    lost = [key for key in given if key not in dumped]
    if lost:
        raise EventContractError(f"{path}: {', '.join(lost)} not in the i2v_events model")
    return {
        key: _as_given(value, dumped[key], f"{path}.{key}") if isinstance(value, Mapping) else dumped[key]
        for key, value in given.items()
    }


def _job_fields(job: JobRecord) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "job_id": job.job_id,
        "attempt": job.attempt,
        "status": str(job.status),
        "source": {"bucket": job.source.bucket, "key": job.source.key, "version_id": job.source.version_id},
        "model": job.model,
        "occurred_at": utc_now(),
    }


def _price(job: JobRecord) -> dict[str, Any]:
    """The additive v1 price fields, present only when the record has them (jobs priced since issue 25)."""
    fields = {"estimated_cost_usd": job.estimated_cost_usd, "price_source": job.price_source}
    return {name: value for name, value in fields.items() if value is not None}


def submitted_detail(job: JobRecord) -> dict[str, Any]:
    fields = {**_job_fields(job), "request_id": job.request_id, "settings": job.settings, **_price(job)}
    return emitted(DetailType.SUBMITTED, fields)


def succeeded_detail(job: JobRecord) -> dict[str, Any]:
    assert job.output is not None
    fields = {
        **_job_fields(job),
        "request_id": job.request_id,
        "output": job.output.model_dump(exclude_none=True),
        "generation_seconds": job.generation_seconds,
        **({"poster": job.poster.model_dump()} if job.poster else {}),
        **_price(job),
    }
    return emitted(DetailType.SUCCEEDED, fields)


def failed_detail(job: JobRecord) -> dict[str, Any]:
    failure = job.failure.model_dump() if job.failure else {"category": "internal", "message": "unknown"}
    return emitted(DetailType.FAILED, {**_job_fields(job), "request_id": job.request_id, "failure": failure})


def preview_ready_detail(job: JobRecord) -> dict[str, Any]:
    assert job.output is not None
    assert job.previews is not None
    fields = {
        **_job_fields(job),
        "request_id": job.request_id,
        "output": {"bucket": job.output.bucket, "key": job.output.key},
        "previews": job.previews.model_dump(),
    }
    return emitted(DetailType.PREVIEW_READY, fields)


def manifest_completed_detail(summary: ManifestSummary) -> dict[str, Any]:
    """Not a job event: the manifest's own summary (i2v.services.manifest_tally announces it)."""
    fields = {
        "schema_version": SCHEMA_VERSION,
        "manifest_id": summary.manifest_id,
        "manifest": summary.manifest.model_dump(mode="json"),
        "occurred_at": utc_now(),
        "lines": summary.lines,
        "ended": summary.ended,
        "bad_lines": summary.bad_total,
    }
    return emitted(DetailType.MANIFEST_COMPLETED, fields)
