"""`i2v gallery`: a static HTML page of the recent jobs (poster, animated preview on hover, prompt, model, status,
a link to the video), written with its images beside it and opened in the browser.

The page has a self-test for the browser test (tests/cli/test_gallery_browser.py), active only with `?selftest=1`:
it loads every poster and preview, decodes each preview's bytes with WebCodecs' ImageDecoder, and writes what it
found as JSON into `<pre id="selftest">`, which `chromium --headless --dump-dom` prints.
"""

from __future__ import annotations

import html
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from i2v.domain.jobs import JobStatus
from i2v.domain.previews import PreviewImage
from i2v.domain.record import JobRecord, StoredObject
from i2v_cli.output import console, emit_json
from i2v_cli.target import Target, resolve_target

Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
Where = Annotated[
    str,
    typer.Option("--target", envvar="I2V_TARGET", help="local, aws (the deployed stack), a stack name, or auto"),
]
PAGE = "index.html"
MEDIA = "media"


@dataclass(frozen=True)
class Card:
    job: JobRecord
    poster: str | None  # URL of the poster, relative to the page or presigned
    preview: str | None
    video: str | None


def recent_jobs(target: Target, limit: int) -> list[JobRecord]:
    """The `limit` most recently updated jobs of any status."""
    repo = target.repository()
    jobs = [job for status in JobStatus for job in repo.by_status(status, limit=limit)]
    return sorted(jobs, key=lambda job: job.updated_at, reverse=True)[:limit]


def _image_url(
    target: Target, stored: StoredObject | PreviewImage | None, out: Path, presign: bool, ttl: int
) -> str | None:
    if stored is None:
        return None
    if presign:
        return _presigned(target, stored, ttl)
    path = out / MEDIA / Path(stored.key).name
    path.parent.mkdir(parents=True, exist_ok=True)
    target.client("s3").download_file(stored.bucket, stored.key, str(path))
    return f"{MEDIA}/{path.name}"


def _presigned(target: Target, stored: StoredObject | PreviewImage, ttl: int) -> str:
    url: str = target.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": stored.bucket, "Key": stored.key}, ExpiresIn=ttl
    )
    return url


def cards(target: Target, jobs: list[JobRecord], out: Path, presign: bool, ttl: int) -> list[Card]:
    made = []
    for job in jobs:
        previews = job.previews
        # Ours (from the video's frames) first; GMI's thumbnail when the previews are not there (yet).
        poster = previews.poster if previews else job.poster
        made.append(
            Card(
                job=job,
                poster=_image_url(target, poster, out, presign, ttl),
                preview=_image_url(target, previews.animated if previews else None, out, presign, ttl),
                video=_presigned(target, job.output, ttl) if job.output else None,
            )
        )
    return made


def _card_html(card: Card) -> str:
    job, e = card.job, html.escape
    prompt = str(job.settings.get("prompt") or "")
    if card.poster:
        picture = f'<img class="poster" src="{e(card.poster)}" alt="poster of job {e(job.job_id)}">'
    else:
        picture = '<div class="poster none">no picture</div>'
    if card.preview:
        # Loaded on the first hover (data-src): a gallery of many previews costs nothing until looked at.
        picture += f'<img class="preview" data-src="{e(card.preview)}" alt="animated preview">'
    why = ""
    if job.failure:
        why = f"{job.failure.category}: {job.failure.message}"
    elif job.preview_failure:
        why = f"no preview: {job.preview_failure.message}"
    link = f'<a class="video" href="{e(card.video)}">video</a>' if card.video else ""
    return (
        f'<figure class="card" data-job="{e(job.job_id)}" data-status="{e(str(job.status))}">'
        f'<div class="frame">{picture}</div><figcaption>'
        f'<p class="prompt">{e(prompt) or "<i>no prompt</i>"}</p>'
        f'<p class="meta"><span class="status {e(str(job.status))}">{e(str(job.status))}</span> '
        f'<span class="model">{e(job.model)}</span> {link}</p>'
        + (f'<p class="why">{e(why)}</p>' if why else "")
        + f'<p class="when">{e(job.updated_at)}</p></figcaption></figure>'
    )


STYLE = """
body{font:14px system-ui,sans-serif;margin:24px;background:#111;color:#eee}
h1{font-size:20px}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:16px}
.card{margin:0;background:#1c1c1c;border-radius:8px;overflow:hidden}
.frame{position:relative;aspect-ratio:16/9;background:#000}
.frame img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain}
.preview{opacity:0;transition:opacity .15s}.card:hover .preview{opacity:1}
.none{display:flex;align-items:center;justify-content:center;height:100%;color:#777}
figcaption{padding:8px 12px}.prompt{margin:0 0 6px}.meta,.when,.why{margin:0 0 4px;color:#aaa}
.status{font-weight:600}.succeeded{color:#6c6}.failed,.timed_out,.rejected{color:#e66}
a{color:#8af}#selftest{white-space:pre-wrap;color:#888}
"""

# Hover loads the preview; ?selftest=1 checks every image the way a person's browser shows it.
SCRIPT = """
for (const card of document.querySelectorAll('.card')) {
  card.addEventListener('mouseenter', () => {
    const preview = card.querySelector('.preview');
    if (preview && !preview.src) preview.src = preview.dataset.src;
  });
}
async function loaded(img, src) {
  if (src && !img.src) img.src = src;
  try { await img.decode(); } catch (e) { return false; }
  return img.naturalWidth > 0;
}
async function animation(src) {
  if (!('ImageDecoder' in window)) return {error: 'no ImageDecoder'};
  try {
    const data = await (await fetch(src)).arrayBuffer();
    const decoder = new ImageDecoder({data, type: 'image/webp'});
    await decoder.tracks.ready;
    const track = decoder.tracks.selectedTrack;
    return {animated: track.animated, frameCount: track.frameCount};
  } catch (e) { return {error: String(e)}; }
}
async function selftest() {
  const report = [];
  for (const card of document.querySelectorAll('.card')) {
    const poster = card.querySelector('img.poster');
    const preview = card.querySelector('img.preview');
    const entry = {job: card.dataset.job, status: card.dataset.status,
                   poster: poster ? await loaded(poster) : null, preview: null};
    if (preview) {
      entry.preview = await loaded(preview, preview.dataset.src);
      Object.assign(entry, await animation(preview.dataset.src));
    }
    report.push(entry);
  }
  const out = document.getElementById('selftest');
  out.textContent = JSON.stringify({done: true, cards: report});
}
if (new URLSearchParams(location.search).has('selftest')) selftest();
"""


def page_html(made: list[Card], title: str) -> str:
    body = "\n".join(_card_html(card) for card in made) or "<p>No jobs yet.</p>"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f'<body><h1>{html.escape(title)}</h1><p>Hover a picture to see it move.</p><main class="grid">{body}</main>'
        f'<pre id="selftest"></pre><script>{SCRIPT}</script></body></html>\n'
    )


def write_gallery(target: Target, out: Path, limit: int = 24, presign: bool = False, ttl: int = 3600) -> Path:
    """Writes `out/index.html` (and `out/media/` unless `presign`) and returns the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    made = cards(target, recent_jobs(target, limit), out, presign, ttl)
    page = out / PAGE
    page.write_text(page_html(made, f"i2v gallery: {target.name}"), encoding="utf-8")
    return page


def gallery(
    out: Annotated[Path, typer.Option(help="directory of the page (index.html) and its images")] = Path("out/gallery"),
    limit: Annotated[int, typer.Option(help="the most recent jobs shown")] = 24,
    presign: Annotated[
        bool, typer.Option("--presign", help="link the images presigned instead of copying them beside the page")
    ] = False,
    ttl: Annotated[int, typer.Option(help="lifetime of the presigned links (the videos'), seconds")] = 3600,
    no_open: Annotated[bool, typer.Option("--no-open", help="write the page without opening a browser")] = False,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Write a static HTML page of the recent jobs (poster, animated preview on hover) and open it."""
    where = resolve_target(target)
    page = write_gallery(where, out, limit, presign, ttl)
    jobs = page.read_text(encoding="utf-8").count('class="card"')
    if not no_open:
        webbrowser.open(page.resolve().as_uri())
    result: dict[str, Any] = {"page": str(page), "jobs": jobs}
    if as_json:
        emit_json(result)
    else:
        console.print(f"gallery of {jobs} jobs: {page}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(gallery)


__all__ = ["gallery", "register", "write_gallery"]
