"""How GMI words its answers, per model: the submit status, the success outcome, where failures go.

GMI's documentation disagrees with itself (../shared/gmi-docs/README.md, contradictions 1-3), so the
simulator gives each documented variant to the models whose pages show it, and the `answer_style`
fault forces any variant on any job:
- submit: `dispatched` with `queued_at` (API reference, a Veo example) or `queued` (model pages);
- outcome: `{video_url, thumbnail_image_url}` (API reference: the thumbnail is the video itself; the
  `answer_style thumbnail=distinct` fault makes it a JPEG still, as a real poster would be) or
  `{media_urls: [{id, url}]}` (Vidu and Kling 3.0 pages), or `list`: a bare list of such items,
  which nothing documents (for testing clients that must decide what to do with it);
- failure reason: top-level `error` (our long-standing assumption), `outcome.error` as a string or an
  object (what third-party clients read), or a top-level `message`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .config import SimContext
from .downloads import thumbnail_url, video_url
from .jobs import Job, Observation


@dataclass(frozen=True)
class AnswerStyle:
    submit: str = "queued"  # queued | dispatched
    outcome: str = "video_url"  # video_url | media_urls | list
    thumbnail: str = "same"  # same (the video URL, as documented) | distinct (a JPEG still) | none
    failure: str = "top"  # top | outcome | outcome_object | message


_VEO = AnswerStyle(submit="dispatched")
_KLING_MEDIA = AnswerStyle(outcome="media_urls", thumbnail="none", failure="outcome_object")
_KLING = AnswerStyle(failure="outcome")
# By model id prefix; the first match wins, unknown models get the default style.
STYLES: tuple[tuple[str, AnswerStyle], ...] = (
    ("veo", _VEO),
    ("Veo", _VEO),
    ("kling-3.0", _KLING_MEDIA),
    ("kling-v3", _KLING_MEDIA),
    ("vidu", AnswerStyle(outcome="media_urls", thumbnail="none", failure="outcome")),
    ("kling", _KLING),
    ("Kling", _KLING),
)


def style_for(job: Job) -> AnswerStyle:
    style = next((s for prefix, s in STYLES if job.model.startswith(prefix)), AnswerStyle())
    forced = job.faults.get("answer_style")
    if forced is None:
        return style
    return replace(
        style,
        submit=forced.get("submit", style.submit),
        outcome=forced.get("outcome", style.outcome),
        thumbnail=forced.get("thumbnail", style.thumbnail),
        failure=forced.get("failure", style.failure),
    )


def submit_body(job: Job) -> dict[str, Any]:
    """The POST answer for a freshly queued job: the documented fields, plus org_id and the payload
    echo (as GET shows them) which some callers use to see the defaults applied."""
    created = int(job.created_at)
    return {
        "request_id": job.request_id,
        "org_id": job.org_id,
        "model": job.model,
        "payload": job.payload,
        "status": style_for(job).submit,
        "created_at": created,
        "updated_at": created,
        "queued_at": created,
    }


def job_body(ctx: SimContext, job: Job, obs: Observation) -> dict[str, Any]:
    """The request object of GET /requests/{id} (and of the request list)."""
    style = style_for(job)
    body: dict[str, Any] = {
        "request_id": job.request_id,
        "org_id": job.org_id,
        "model": job.model,
        "status": obs.status,
        "is_public": False,
        "payload": job.payload,
        "outcome": None,
        "created_at": int(job.created_at),
        "updated_at": int(obs.updated_at),
        "queued_at": int(job.created_at),
    }
    if obs.status == "success":
        missing = job.faults.get("success_without_outcome")
        if missing is None:
            body["outcome"] = _success_outcome(ctx, job, style)
        else:
            shape = missing.get("shape", "missing")
            if shape == "missing":
                del body["outcome"]
            elif shape == "empty":
                body["outcome"] = {}
            elif shape == "blank_url":
                body["outcome"] = {"video_url": ""}
    elif obs.status == "failed":
        _put_failure(body, obs.error or "video generation failed", style)
    return body


def _success_outcome(ctx: SimContext, job: Job, style: AnswerStyle) -> Any:
    url = video_url(ctx, job)
    if style.outcome in ("media_urls", "list"):
        items = [{"id": "0", "url": url}]
        return items if style.outcome == "list" else {"media_urls": items}
    outcome = {"video_url": url}
    if style.thumbnail == "same":
        outcome["thumbnail_image_url"] = url
    elif style.thumbnail == "distinct" and job.thumbnail is not None:
        outcome["thumbnail_image_url"] = thumbnail_url(ctx, job)
    return outcome


def _put_failure(body: dict[str, Any], reason: str, style: AnswerStyle) -> None:
    if style.failure == "outcome":
        body["outcome"] = {"error": reason}
    elif style.failure == "outcome_object":
        body["outcome"] = {"error": {"code": "generation_failed", "message": reason}}
    elif style.failure == "message":
        body["message"] = reason
    else:
        body["error"] = reason


def list_body(
    ctx: SimContext, jobs: list[tuple[Job, Observation]], page: int = 1, page_size: int = 0
) -> dict[str, Any]:
    """GET /requests?model_id=: the SDK's ListUserRequestsResponse, newest first, one page of it: `total` counts
    the whole list ("Total number of requests available"), `requests` holds page `page` (from 1) of
    min(page_size, the simulator's list_page_size) requests. GMI documents no paging parameter: these are ours."""
    size = min(page_size or ctx.config.list_page_size, ctx.config.list_page_size)
    ordered = sorted(jobs, key=lambda pair: -pair[0].created_at)
    shown = ordered[(page - 1) * size : page * size]
    return {"requests": [job_body(ctx, job, obs) for job, obs in shown], "total": len(ordered)}
