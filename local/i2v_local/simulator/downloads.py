"""What a GET of a signed video URL or a hosted image answers, with every video fault."""

from __future__ import annotations

import time
from collections.abc import Iterator

from .config import SimContext
from .faults import FaultSpec
from .jobs import Job
from .plumbing import Exchange
from .video import synthetic_chunks

CHUNK = 64 * 1024
SIGNED_QUERY = (
    "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=gmi-sim%2Fauto%2Fstorage%2Fgoog4_request"
    "&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&X-Goog-Signature={token}"
)


def video_url(ctx: SimContext, job: Job) -> str:
    """A fresh signed-looking URL of a job's video (each one a new token, like a re-signed GCS URL)."""
    token = ctx.store.issue_token(job)
    query = SIGNED_QUERY.format(token=token)
    if job.has("video_url_foreign_host"):
        host = job.faults["video_url_foreign_host"].get("host", ctx.config.foreign_video_host)
        return f"https://{host}/videos/{job.request_id}.mp4?{query}"
    base = ctx.base_url()
    if job.has("video_url_http"):
        base = "http://" + base.split("://", 1)[1]
    return f"{base}/videos/{job.request_id}.mp4?{query}"


def thumbnail_url(ctx: SimContext, job: Job) -> str:
    token = ctx.store.issue_token(job)
    return f"{ctx.base_url()}/videos/{job.request_id}.jpg?{SIGNED_QUERY.format(token=token)}"


def serve_thumbnail(ctx: SimContext, ex: Exchange, request_id: str) -> None:
    job = ctx.store.get(request_id)
    token = (ex.query.get("X-Goog-Signature") or [""])[0]
    if job is None or job.thumbnail is None:
        ex.error(404, "no such object")
    elif token not in job.tokens:
        ex.error(403, "signature does not match")
    elif job.has("thumbnail_404"):
        ex.fault = "thumbnail_404"
        ex.error(404, "no such object")
    else:
        ex.send(200, job.thumbnail, "image/jpeg")


def serve_image(ctx: SimContext, ex: Exchange, name: str) -> None:
    image = ctx.images.get(name)
    if image is None:
        ex.error(404, "no such image")
    else:
        ex.send(image[0], image[1], image[2])


def serve_video(ctx: SimContext, ex: Exchange, request_id: str) -> None:
    store = ctx.store
    job = store.get(request_id)
    if job is None or not job.done.is_set() or job.video_length is None:
        ex.error(404, "no such object")
        return
    token = (ex.query.get("X-Goog-Signature") or [""])[0]
    if token not in job.tokens:
        ex.error(403, "signature does not match")
        return
    store.count_download(job)
    for name, code in (("video_403", 403), ("video_404", 404)):
        spec = job.faults.get(name)
        if spec is None:
            continue
        if spec.get("scope", "always") != "once" or store.expire_once(job, token):
            ex.fault = name
            ex.error(code, "access denied: URL expired" if code == 403 else "no such object")
            return
    for name, default in (
        ("video_redirect_private", f"http://10.0.0.1/videos/{request_id}.mp4"),
        ("video_redirect_foreign", f"https://{ctx.config.foreign_video_host}/videos/{request_id}.mp4"),
    ):
        spec = job.faults.get(name)
        if spec is not None:
            ex.fault = name
            ex.send(302, b"", "text/plain", {"Location": spec.get("target", default)})
            return
    if job.has("video_redirect_ok") and "redirected" not in ex.query:
        ex.fault = "video_redirect_ok"
        location = f"{ctx.base_url()}/videos/{request_id}.mp4?{SIGNED_QUERY.format(token=token)}&redirected=1"
        ex.send(302, b"", "text/plain", {"Location": location})
        return
    _stream_video(ctx, ex, job)


def _stream_video(ctx: SimContext, ex: Exchange, job: Job) -> None:
    size = job.video_length or 0
    start, end = 0, size
    status = 200
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{job.request_id}"'}
    wanted = ex.headers.get("Range")
    if wanted:
        parsed = parse_range(wanted, size)
        if parsed is None:
            ex.send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
            return
        start, end = parsed
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    cut: int | None = None
    reset: FaultSpec | None = None
    for name in ("video_truncated", "video_reset"):
        spec = job.faults.get(name)
        if spec is not None:
            ex.fault = name
            cut = start + int((end - start) * min(max(spec.num("fraction", 0.5), 0.0), 1.0))
            reset = spec if name == "video_reset" else None
    slow = job.faults.get("video_slow")
    rate = slow.num("bytes_per_second", 256 * 1024) if slow is not None else None
    if rate is not None:
        ex.fault = "video_slow"
    ex.start_body(status, {"Content-Type": "video/mp4", "Content-Length": str(end - start), **headers})
    if ex.is_head:
        return

    deadline = time.monotonic() + ctx.config.max_hang_seconds
    for chunk in _chunks(job, start, cut if cut is not None else end):
        if rate is None or time.monotonic() >= deadline:
            ex.write(chunk)
        else:
            # Small slices, each paced before it is sent, so the client sees the whole body late.
            step = max(1, int(rate / 20))
            for pos in range(0, len(chunk), step):
                ex.sleep(min(step, len(chunk) - pos) / rate)
                ex.write(chunk[pos : pos + step])
        if ex.stopping:
            ex.drop()
    if cut is not None:
        if reset is not None:
            # Give the client time to read what was sent: an RST makes Linux discard unread data.
            ex.sleep(reset.num("delay", 0.5))
        ex.drop(reset=reset is not None)


def _chunks(job: Job, start: int, end: int) -> Iterator[bytes]:
    if job.video is not None:
        view = memoryview(job.video)
        for pos in range(start, end, CHUNK):
            yield bytes(view[pos : min(pos + CHUNK, end)])
    else:
        yield from synthetic_chunks(job.synthetic_size or 0, start, end)


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range as [start, end); None if unsatisfiable."""
    unit, _, spec = value.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if not first:
            n = int(last)
            return (max(0, size - n), size) if n > 0 and size else None
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    return (start, end) if 0 <= start < end else None
