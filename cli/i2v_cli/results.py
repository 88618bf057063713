"""`i2v fetch` and `i2v reconcile`, and the short human summary that `status` and `submit --wait` end with."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from i2v.adapters.queue import SubmitQueue
from i2v.domain import catalog
from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord, StoredObject
from i2v_cli.output import CliError, console, emit_json
from i2v_cli.price_views import job_price_line
from i2v_cli.target import Target, resolve_target
from i2v_cli.watching import find_job

Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
Where = Annotated[
    str,
    typer.Option("--target", envvar="I2V_TARGET", help="local, aws (the deployed stack), a stack name, or auto"),
]
RECONCILE_WAIT_SECONDS = 60.0


def default_settings(model: str) -> dict[str, Any]:
    """The documented defaults of the model's parameters (what a job gets when nothing is said)."""
    if model not in catalog.ids():
        return {}
    fields = catalog.get(model).model_fields
    return {name: info.default for name, info in fields.items() if not info.is_required()}


def changed_settings(job: JobRecord) -> dict[str, Any]:
    defaults = default_settings(job.model)
    return {key: value for key, value in job.settings.items() if key not in defaults or defaults[key] != value}


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (
        datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    ).total_seconds()


def summary(job: JobRecord) -> dict[str, Any]:
    """The few facts a person wants first; `--json` gives the whole record."""
    started = job.timestamps.get(JobStatus.RECEIVED) or job.created_at
    return {
        "job_id": job.job_id,
        "status": job.status,
        "model": job.model,
        "settings": changed_settings(job),
        "video": f"s3://{job.output.bucket}/{job.output.key}" if job.output else None,
        "poster": f"s3://{job.poster.bucket}/{job.poster.key}" if job.poster else None,
        "seconds": _seconds_between(started, job.updated_at),
        "failure": job.failure.model_dump(mode="json") if job.failure else None,
        "reconciled": "reconciled" in job.timestamps,
        "estimated_cost_usd": job.estimated_cost_usd,
        "price_source": job.price_source,
    }


def print_summary(job: JobRecord) -> None:
    facts = summary(job)
    colour = {"succeeded": "green", "submit_ambiguous": "yellow"}.get(str(job.status), "red")
    if job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.REJECTED):
        colour = "yellow" if job.status == JobStatus.SUBMIT_AMBIGUOUS else "cyan"
    console.print(f"[bold {colour}]{job.status}[/]  job {job.job_id}  model {job.model}", soft_wrap=True)
    shown = ", ".join(f"{key}={value!r}" for key, value in facts["settings"].items())
    lines = [f"  settings: {shown or 'defaults'}"]
    if job.end_frame:
        lines.append(f"  end frame: s3://{job.end_frame.bucket}/{job.end_frame.key}")
    if job.output:
        lines.append(f"  video:    {facts['video']}  ({job.output.size} bytes)")
    if facts["poster"]:
        lines.append(f"  poster:   {facts['poster']}")
    price = job_price_line(job)
    if price:
        lines.append(f"  price:    {price}")
    if job.previews:
        lines.append(f"  previews: s3://{job.previews.poster.bucket}/{job.previews.poster.key} (+ .preview.webp)")
    elif job.preview_failure:
        lines.append(f"  previews: none ({job.preview_failure.message})")
    if job.failure:
        lines.append(f"  reason:   {job.failure.category}: {job.failure.message}")
    if facts["reconciled"]:
        lines.append("  found in GMI's request list after an ambiguous submission (reconciled)")
    if facts["seconds"] is not None:
        lines.append(f"  time:     {facts['seconds']:.1f} s")
    if job.output:
        lines.append(f"  get it:   i2v fetch {job.job_id}")
    # Data, not markup (a prompt may hold brackets); never wrapped, so paths stay copyable.
    console.print("\n".join(lines), markup=False, soft_wrap=True)


def _download(target: Target, stored: StoredObject, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / Path(stored.key).name
    target.client("s3").download_file(stored.bucket, stored.key, str(path))
    return path


def fetch(
    job: Annotated[str, typer.Argument(help="job id, S3 key, or s3://bucket/key")],
    out: Annotated[Path, typer.Option(help="directory to write the video (and its pictures) to")] = Path("out"),
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Download a finished job's video (its poster, frame and animated preview too) from the local or deployed stack."""
    where = resolve_target(target)
    record = find_job(where, job)
    if record.output is None:
        raise CliError(f"job {record.job_id} has no video (status {record.status}); `i2v status {record.job_id}`")
    files = {"video": str(_download(where, record.output, out))}
    if record.poster is not None:
        files["poster"] = str(_download(where, record.poster, out))
    if record.previews is not None:  # made from the video's frames, after it succeeded
        for kind, image in (("frame", record.previews.poster), ("preview", record.previews.animated)):
            stored = StoredObject(bucket=image.bucket, key=image.key, size=image.size, content_type=image.content_type)
            files[kind] = str(_download(where, stored, out))
    if as_json:
        emit_json(files)
    else:
        for kind, path in files.items():
            console.print(f"{kind}: {path}", markup=False, soft_wrap=True)


def reconcile(
    job: Annotated[str, typer.Argument(help="job id or S3 key of a submit_ambiguous job")],
    wait: Annotated[float, typer.Option(help="seconds to wait for the answer")] = RECONCILE_WAIT_SECONDS,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Look for an ambiguous submission in GMI's request list now; found, the job goes on without a second POST."""
    where = resolve_target(target)
    record = find_job(where, job)
    if record.status != JobStatus.SUBMIT_AMBIGUOUS:
        raise CliError(f"job {record.job_id} is {record.status}; only submit_ambiguous jobs are reconciled")
    # The submit function runs the check (it holds the GMI key); the CLI asks it to, now.
    SubmitQueue(where.outputs["SubmitQueueUrl"])({"kind": "reconcile", "job_id": record.job_id, "now": True}, 0)
    repo, before = where.repository(), record.updated_at
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        current = repo.get(record.job_id)
        # Found: `reconciled` is on the timeline; not found: the (still ambiguous) record says so.
        found = current is not None and "reconciled" in current.timestamps
        if current is not None and (
            found or (current.status == JobStatus.SUBMIT_AMBIGUOUS and current.updated_at != before)
        ):
            record = current
            break
        time.sleep(0.5)
    else:
        raise CliError(f"no answer from the submit function within {wait:.0f}s; look again with `i2v status`")
    if as_json:
        emit_json(summary(record))
    else:
        print_summary(record)
    if record.status == JobStatus.SUBMIT_AMBIGUOUS:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command()(fetch)
    app.command()(reconcile)
