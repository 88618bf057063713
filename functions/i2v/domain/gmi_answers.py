"""What GMI's answers mean: its statuses, where the video and its thumbnail are, why a job failed, and the
errors the GMI port raises (what the services decide on; the adapter only classifies HTTP into them).

GMI documents several shapes for the same thing (../shared/gmi-docs/api.md §3, §5, §6): this module
is the one place that knows them, so the adapter only transports and the services only decide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from i2v.domain.redaction import redact, truncate

# Seconds to open a connection to GMI: the client's connect timeout, also counted in the services' time budgets.
CONNECT_TIMEOUT = 3.05


class GmiError(Exception):
    def __init__(self, message: str, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(truncate(redact(message)))
        self.status_code = status_code
        self.retry_after = retry_after


class GmiPermanentError(GmiError):
    """GMI refused the request itself (400/401/403/404...): sending it again cannot help."""


class GmiRetryableError(GmiError):
    """The request certainly created nothing (refused or never sent), or it was a read: try again."""


class GmiAmbiguousError(GmiError):
    """A POST whose fate we cannot know: GMI may have created (and billed) a job we never saw."""


class GmiStatus(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    DISPATCHED = "dispatched"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Other spellings seen for the same status (GMI's own pages use both "cancelled" and "canceled").
_SPELLINGS = {"canceled": GmiStatus.CANCELLED}
WAITING = frozenset({GmiStatus.CREATED, GmiStatus.QUEUED, GmiStatus.DISPATCHED, GmiStatus.PROCESSING})
ENDED_BADLY = frozenset({GmiStatus.FAILED, GmiStatus.CANCELLED})
# Still waiting for a worker (our `queued`); dispatched means a worker has it (our `processing`).
NOT_STARTED = frozenset({GmiStatus.CREATED, GmiStatus.QUEUED})


def parse_status(text: str | None) -> GmiStatus | None:
    """The status GMI meant, or None for one it never documented (keep polling, but say so)."""
    normalized = (text or "").strip().lower()
    if normalized in _SPELLINGS:
        return _SPELLINGS[normalized]
    try:
        return GmiStatus(normalized)
    except ValueError:
        return None


def _first_outcome(outcome: Any) -> dict[str, Any]:
    """The outcome as a mapping. A bare list (documented nowhere) is read as its first item: GMI has
    billed the job by then, and the URL inside still passes the allow-list and the video sniffing."""
    if isinstance(outcome, list):
        outcome = outcome[0] if outcome else None
    return outcome if isinstance(outcome, dict) else {}


def _url(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def video_url(outcome: Any) -> str | None:
    """`video_url` (API reference) or `media_urls[0].url` (Vidu, Kling 3.0), or a list item's `url`."""
    found = _first_outcome(outcome)
    direct = _url(found.get("video_url"))
    if direct:
        return direct
    media = found.get("media_urls")
    if isinstance(media, list) and media and isinstance(media[0], dict):
        return _url(media[0].get("url"))
    return _url(found.get("url")) if isinstance(outcome, list) else None


def same_object(first: str, second: str) -> bool:
    """Two signed URLs of the same object differ only in their query (the signature)."""
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def poster_url(outcome: Any) -> str | None:
    """`thumbnail_image_url` when it is not the video itself (the API reference's example is)."""
    found = _first_outcome(outcome)
    thumbnail, video = _url(found.get("thumbnail_image_url")), video_url(outcome)
    if thumbnail is None or (video is not None and same_object(thumbnail, video)):
        return None
    return thumbnail


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("message", "detail", "msg", "reason"):
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                code = value.get("code")
                return f"{text.strip()} ({code})" if code not in (None, "") else text.strip()
        return json.dumps(value, sort_keys=True) if value else None
    if value is None or value == [] or value is False:
        return None
    return json.dumps(value)


def failure_reason(outcome: Any, error: Any, message: Any) -> str | None:
    """Why a job failed: `outcome.error` (a string or an object), else the top-level `error` or `message`."""
    return _text(_first_outcome(outcome).get("error")) or _text(error) or _text(message)


class GmiRequest(BaseModel):
    """One request as GMI reports it (the GMI port's answer); what its fields mean is this module's business."""

    model_config = ConfigDict(extra="ignore")

    request_id: str
    status: str
    model: str | None = None
    # A mapping as documented, a list as nobody documents, or null while running: read by gmi_answers.
    outcome: Any = None
    payload: dict[str, Any] | None = None
    created_at: float | None = None
    updated_at: float | None = None
    error: Any = None
    message: Any = None

    @property
    def video_url(self) -> str | None:
        return video_url(self.outcome)

    @property
    def poster_url(self) -> str | None:
        return poster_url(self.outcome)

    @property
    def failure_message(self) -> str:
        reason = failure_reason(self.outcome, self.error, self.message)
        return truncate(redact(reason)) if reason else f"GMI reported status {self.status!r}"


@dataclass(frozen=True)
class RequestPage:
    """One page of GMI's request list (`{"requests": [...], "total": n}`): `total` counts every request of the
    list (the SDK's ListUserRequestsResponse), None when GMI does not say."""

    requests: list[GmiRequest]
    total: int | None
