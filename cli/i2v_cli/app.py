"""The `i2v` command: drive a deployed pipeline, or a local one (`i2v demo`, `i2v local up` come with the harness)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

import i2v.handlers as handlers_package
from i2v.adapters.queue import SubmitQueue
from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord
from i2v.services.retry import RetryRefusedError, retry_hint, retry_job
from i2v_cli import gallery, results
from i2v_cli.events import events_command
from i2v_cli.models import models_app, parse_sets
from i2v_cli.output import CliError, Json, console, emit_json
from i2v_cli.plugins import load_plugins
from i2v_cli.price_views import usd
from i2v_cli.prices import estimate
from i2v_cli.results import print_summary
from i2v_cli.target import resolve_target
from i2v_cli.uploads import upload
from i2v_cli.watching import SHORT_ID, find_job, follow, stage_of

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)

Where = Annotated[
    str,
    typer.Option("--target", envvar="I2V_TARGET", help="local, aws (the deployed stack), a stack name, or auto"),
]


def record_view(job: JobRecord) -> dict[str, Any]:
    return job.model_dump(mode="json", exclude_none=True)


def print_stage(job: JobRecord) -> None:
    polls = f" (poll {job.poll_count})" if job.poll_count else ""
    console.print(f"  {datetime.now(UTC):%H:%M:%S}  [bold]{stage_of(job)}[/]{polls}")


@app.command()
def submit(
    image: Annotated[Path, typer.Argument(help="JPEG, PNG or WebP")],
    prompt: Annotated[
        str | None, typer.Option(help="description of the motion (default: the settings file's, or the deployment's)")
    ] = None,
    negative_prompt: Annotated[str | None, typer.Option()] = None,
    duration: Annotated[str | None, typer.Option(help="5, 8 or 10 (10 not at 1080p)")] = None,
    quality: Annotated[str | None, typer.Option(help="360p, 540p, 720p or 1080p")] = None,
    aspect_ratio: Annotated[str | None, typer.Option(help="16:9, 9:16, 1:1, 4:3 or 3:4")] = None,
    style: Annotated[str | None, typer.Option(help="none, anime, 3d_animation, clay, comic, cyberpunk")] = None,
    thinking_type: Annotated[str | None, typer.Option(help="enabled, disabled or auto")] = None,
    seed: Annotated[int | None, typer.Option(help="0..2147483647")] = None,
    audio: Annotated[bool | None, typer.Option("--audio/--no-audio", help="generate sound")] = None,
    multi_clip: Annotated[bool | None, typer.Option("--multi-clip/--single-clip", help="camera changes")] = None,
    model: Annotated[str | None, typer.Option(help="a catalog model (`i2v models`)")] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="a setting of the model: key=value (repeatable)")
    ] = None,
    key: Annotated[str | None, typer.Option(help="object key (default: <input prefix><file name>)")] = None,
    end_frame: Annotated[
        Path | None, typer.Option(help="the last frame, for models that take one: uploaded under the end-frame prefix")
    ] = None,
    settings_file: Annotated[
        Path | None,
        typer.Option(
            help="a JSON object of settings, uploaded beside the image as its sidecar (no 2 KB limit); options beat it"
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the job until it ends")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to --wait")] = 1800,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Upload an image with its generation settings (as S3 metadata; in a settings sidecar beside it when they
    are longer than S3's 2 KB of metadata allow, or with --settings-file); the pipeline takes it from there."""
    where = resolve_target(target)
    settings = {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "duration": duration,
        "quality": quality,
        "aspect_ratio": aspect_ratio,
        "style": style,
        "thinking_type": thinking_type,
        "seed": seed,
        "generate_audio_switch": audio,
        "generate_multi_clip_switch": multi_clip,
        "model": model,
        **parse_sets(sets),
    }
    uploaded = upload(where, image, key, settings, end_frame, settings_file)
    if not wait:
        if as_json:
            emit_json({"uploaded": uploaded})
        else:
            console.print(
                f"uploaded s3://{uploaded['bucket']}/{uploaded['key']}; follow it with `i2v status {key or uploaded['key']}`"
            )
        return
    job = find_job(where, f"s3://{uploaded['bucket']}/{uploaded['key']}", wait_seconds=60)
    job = follow(where, job.job_id, (lambda _: None) if as_json else print_stage, timeout)
    emit_json({"uploaded": uploaded, "job": record_view(job)}) if as_json else print_summary(job)
    if job.status != JobStatus.SUCCEEDED:
        raise typer.Exit(2)


@app.command()
def status(
    job: Annotated[str, typer.Argument(help="job id, S3 key, or s3://bucket/key")],
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Show a job: a short summary (the whole record with --json)."""
    record = find_job(resolve_target(target), job)
    emit_json(record_view(record)) if as_json else print_summary(record)


def parse_since(text: str | None) -> str | None:
    if not text:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1] in units and text[:-1].isdigit():
        moment = datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise CliError(f"--since {text!r}: use an ISO time or a duration like 30m, 6h, 2d") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@app.command(name="list")
def list_jobs(
    status_filter: Annotated[str | None, typer.Option("--status", help="only this status")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or 30m / 6h / 2d")] = None,
    limit: Annotated[int, typer.Option(help="at most this many per status")] = 50,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """List recent jobs, newest first."""
    try:
        statuses = [JobStatus(status_filter)] if status_filter else list(JobStatus)
    except ValueError:
        raise CliError(f"--status must be one of {', '.join(s.value for s in JobStatus)}") from None
    repo = resolve_target(target).repository()
    after = parse_since(since)
    jobs = sorted(
        (job for s in statuses for job in repo.by_status(s, since=after, limit=limit)),
        key=lambda job: job.updated_at,
        reverse=True,
    )
    if as_json:
        emit_json([record_view(job) for job in jobs])
        return
    from rich.table import Table

    # Nothing is cut: ids are shown by the prefix every command accepts, long keys fold onto the next line.
    table = Table("job", "status", "source key", "updated (UTC)", "estimate", "failure")
    table.columns[0].no_wrap = table.columns[1].no_wrap = table.columns[3].no_wrap = True
    table.columns[2].overflow = table.columns[5].overflow = "fold"
    for job in jobs:
        table.add_row(
            job.job_id[:SHORT_ID],
            job.status,
            job.source.key,
            job.updated_at[5:19].replace("T", " "),
            usd(job.estimated_cost_usd),
            job.failure.category if job.failure else "",
        )
    console.print(table)
    if jobs:
        console.print(f"[dim]job ids shortened to {SHORT_ID} characters: any command takes such a prefix[/]")


@app.command()
def watch(
    job: Annotated[str, typer.Argument(help="job id or S3 key")],
    timeout: Annotated[float, typer.Option(help="give up after this many seconds")] = 1800,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Follow a job until it ends."""
    where = resolve_target(target)
    record = find_job(where, job, wait_seconds=30)
    changes: list[dict[str, Any]] = []
    on_change = (lambda j: changes.append({"status": j.status, "poll_count": j.poll_count})) if as_json else print_stage
    record = follow(where, record.job_id, on_change, timeout)
    emit_json({"changes": changes, "job": record_view(record)}) if as_json else print_summary(record)


@app.command()
def retry(
    job: Annotated[str, typer.Argument(help="job id or S3 key")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm retrying an ambiguous submission")] = False,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Re-run a failed, timed-out, rejected or ambiguous job (ambiguous ones may be paid twice)."""
    where = resolve_target(target)
    record = find_job(where, job)
    confirmed = yes
    if record.status == JobStatus.SUBMIT_AMBIGUOUS and not yes and not as_json:
        console.print(f"[yellow]{record.failure.message if record.failure else 'ambiguous submission'}[/]")
        confirmed = typer.confirm("GMI may already be generating (and billing) this job. Submit it again?")
    try:
        updated = retry_job(where.repository(), SubmitQueue(where.outputs["SubmitQueueUrl"]), record.job_id, confirmed)
    except RetryRefusedError as refused:
        raise CliError(str(refused)) from None
    if as_json:
        emit_json(record_view(updated))
        return
    console.print(f"job {updated.job_id} queued again (attempt {updated.attempt})")
    if hint := retry_hint(record):
        console.print(f"[yellow]note: {hint}[/]", soft_wrap=True)


def function_names() -> list[str]:
    """The functions' short names: handler modules that define a Lambda `handler` (read, not imported: importing
    one validates its environment)."""
    folder = Path(handlers_package.__file__).parent
    return sorted(p.stem for p in folder.glob("*.py") if re.search(r"^def handler\(", p.read_text(), re.MULTILINE))


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help=f"one of {', '.join(function_names())}")],
    event: Annotated[Path, typer.Argument(help="a JSON event, e.g. one of events/*.json")],
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """Invoke one of the pipeline's functions with an event file and print what it returned."""
    if function not in (known := function_names()):
        raise CliError(f"no function {function!r}: one of {', '.join(known)}")
    if not event.is_file():
        raise CliError(f"{event}: no such file")
    where = resolve_target(target)
    response = where.client("lambda").invoke(FunctionName=where.function_name(function), Payload=event.read_bytes())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise CliError(f"{function} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
    emit_json(payload) if as_json else console.print_json(data=payload)


app.command("events")(events_command)  # i2v_cli/events.py
results.register(app)  # i2v fetch, i2v reconcile
app.command()(estimate)  # i2v_cli/prices.py
gallery.register(app)  # i2v gallery

app.add_typer(models_app, name="models")
load_plugins(app)  # `i2v demo`, `i2v local up`, `i2v simulate` when the local harness is installed


def main() -> None:
    """Entry point: user errors become one line and a non-zero exit, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        app()
    except CliError as error:
        from i2v_cli.output import fail

        fail(str(error))
    except (ClientError, BotoCoreError) as error:
        from i2v_cli.output import fail

        fail(f"AWS said: {error}")
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
