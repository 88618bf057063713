"""`i2v events`: the pipeline's events as they reach the bus of the local stack, one line each.

A temporary rule and SQS queue on the bus (the same tap the tests use) receive every pipeline event; they are
removed when the command ends. With `--json`, each line is the event as EventBridge delivers it (JSON Lines).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from i2v_cli.output import console
from i2v_cli.taps import EventTap
from i2v_cli.target import resolve_target
from i2v_events import parse_event
from i2v_events.v1 import (
    DetailType,
    FailedDetail,
    ManifestCompletedDetail,
    PreviewReadyDetail,
    SubmittedDetail,
    SucceededDetail,
)

PATTERN = {"detail-type": [str(detail_type) for detail_type in DetailType]}
POLL_SECONDS = 0.2


def event_line(event: dict[str, Any]) -> str:
    """`HH:MM:SS  kind  job  source-key  what happened` for one event."""
    try:
        parsed = parse_event(event)
    except ValidationError:
        return f"{event.get('time', '')[11:19]}  {event.get('detail-type')}  (not a v1 pipeline event)"
    detail = parsed.detail
    if isinstance(detail, PreviewReadyDetail):  # the job stays succeeded: say what this event adds
        poster, animated = detail.previews.poster, detail.previews.animated
        return (
            f"{parsed.time:%H:%M:%S}  {'preview ready':<16} {detail.job_id[:8]}  {detail.source.key}  "
            f"s3://{poster.bucket}/{poster.key} (at {poster.at_seconds:.1f} s), "
            f"{animated.key.rsplit('/', 1)[-1]} ({animated.frame_count} frames, {animated.size // 1024} KB)"
        )
    if isinstance(detail, ManifestCompletedDetail):
        return (
            f"{parsed.time:%H:%M:%S}  {'manifest done':<16} {detail.manifest_id[:8]}  {detail.manifest.key}  "
            f"{detail.lines} lines ended, {detail.bad_lines} bad"
        )
    head = f"{parsed.time:%H:%M:%S}  {detail.status:<16} {detail.job_id[:8]}  {detail.source.key}"
    if isinstance(detail, SubmittedDetail):
        # Each model names its own parameters (open `settings`): show the common ones it happens to send.
        extra = detail.settings.model_extra or {}
        shown = [str(extra[name]) for name in ("quality", "resolution") if name in extra]
        shown += [f"{extra['duration']} s"] if "duration" in extra else []
        return f"{head}  {detail.model} request {detail.request_id} ({', '.join(shown) or 'model defaults'})"
    if isinstance(detail, SucceededDetail):
        out = detail.output
        facts = [f"{out.size:,} bytes"]
        if out.duration_seconds is not None:
            facts.append(f"{out.duration_seconds:.1f} s")
        if out.width and out.height:
            facts.append(f"{out.width}x{out.height}")
        return f"{head}  s3://{out.bucket}/{out.key} ({', '.join(facts)})"
    if isinstance(detail, FailedDetail):
        return f"{head}  {detail.failure.category}: {detail.failure.message}"
    return f"{head}  {parsed.detail_type}"  # a job kind added later, with no line of its own here


def events_command(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep listening until Ctrl-C")] = False,
    seconds: Annotated[float, typer.Option("--for", help="without --follow: listen this many seconds")] = 10.0,
    limit: Annotated[int | None, typer.Option(help="stop after this many events")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON event per line (JSON Lines)")] = False,
) -> None:
    """Show the pipeline's events (Submitted, Succeeded, Failed, Manifest Completed) of the local stack as they happen."""
    target = resolve_target("local")
    tap = EventTap(target.client, target.outputs["EventBusName"], PATTERN)
    if not as_json:
        until = "Ctrl-C" if follow else f"{seconds:g} s" + (f" or {limit} events" if limit is not None else "")
        console.print(f"listening to {target.outputs['EventBusName']} for {until}", style="dim")
    deadline, shown = time.monotonic() + seconds, 0
    try:
        while follow or time.monotonic() < deadline:
            for event in tap.drain()[shown:]:
                shown += 1
                if as_json:
                    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                else:
                    console.print(event_line(event), markup=False, soft_wrap=True)
                if limit is not None and shown >= limit:
                    return
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        return
    finally:
        tap.close()
