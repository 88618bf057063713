"""`i2v demo` and `i2v local up`: the real pipeline on emulated AWS and a local GMI, on this machine."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.status import Status

from i2v.domain import catalog
from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord
from i2v_cli.output import CliError
from i2v_cli.target import STATE_DIR, Target, clear_local_state, running_local_state, write_local_state
from i2v_cli.uploads import read_image, upload
from i2v_cli.watching import ENDED, find_job, stage_of
from i2v_events.v1 import DetailType

SAMPLE_IMAGE = Path(__file__).parent / "assets" / "sample.png"
DEMO_TIMEOUT_SECONDS = 120
LAMBDA_LOG = STATE_DIR / "lambda.log"
GMI_CONNECT_SECONDS = 3.05  # the pipeline's own connect timeout


def _point(handler: logging.StreamHandler[Any], stream: Any) -> Any:
    """setStream, even when the handler's current stream is already closed (setStream would flush it)."""
    if getattr(handler.stream, "closed", False):
        previous, handler.stream = handler.stream, stream
        return previous
    return handler.setStream(stream)


@contextmanager
def lambda_output_to_file(path: Path) -> Iterator[None]:
    """The functions log JSON (and EMF metrics) to stdout as in Lambda; keep it in a file, not on screen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as sink, redirect_stdout(sink):
        handlers = [h for h in logging.getLogger("i2v").handlers if isinstance(h, logging.StreamHandler)]
        previous = [_point(h, sink) for h in handlers]
        try:
            yield
        finally:
            for handler, stream in zip(handlers, previous, strict=True):
                if stream is not None:
                    _point(handler, stream)
            # Handlers created inside (functions imported meanwhile) must not keep writing to the closed sink.
            for created in logging.getLogger("i2v").handlers:
                if isinstance(created, logging.StreamHandler) and created.stream is sink:
                    _point(created, sys.__stdout__)


@contextmanager
def local_pipeline(
    gmi_base_url: str | None, gmi_api_key: str | None, screen: Console, quiet: bool
) -> Iterator[tuple[Any, Any]]:
    """Emulated AWS with the synthesized stack in it, and our GMI simulator unless another server is given."""
    if gmi_base_url:
        refuse_plain_http(gmi_base_url)
        check_gmi(gmi_base_url, gmi_api_key, screen)
    from i2v_local.simulator import GmiSimulator, Timing
    from i2v_local.stack import LocalSettings, LocalStack

    with ExitStack() as stack, Status("synthesizing the CDK app", console=screen) as status:
        if quiet:
            status.stop()
        template = synthesize_in_own_session()
        simulator = None
        if gmi_base_url:
            host = urlsplit(gmi_base_url).hostname or ""
            settings = LocalSettings(
                gmi_base_url=gmi_base_url,
                api_key=gmi_api_key or "sim-key",
                environment={"VIDEO_HOST_ALLOWLIST": f"127.0.0.1,localhost,{host}"},
            )
        else:
            status.update("starting the GMI simulator")
            simulator = stack.enter_context(GmiSimulator(timing=Timing.fixed(1.0, 3.0)))
            settings = LocalSettings.for_simulator(simulator)
        status.update("creating the stack's resources in emulated AWS")
        stack.enter_context(lambda_output_to_file(LAMBDA_LOG))
        local = stack.enter_context(LocalStack(template, settings, mode="server"))
        stack.enter_context(lambda_output_to_file(LAMBDA_LOG))  # handlers imported by start() log there too
        local.start_background(interval=0.2)
        status.stop()
        yield local, simulator


def synthesize_in_own_session() -> dict[str, Any]:
    """The stack's template, synthesized by a child Python in its own session.

    The CDK synthesizes through jsii's node process. Kept in this process, that node child gets the terminal's
    Ctrl-C with us, dies first, and jsii's exit hook then writes to its closed pipe (a BrokenPipeError traceback on
    every Ctrl-C). In its own session it never sees our Ctrl-C, and it has exited before we serve anything.
    """
    code = "import json, sys; from i2v_infra.synth import synthesize_template as t; json.dump(t(local_only=True), sys.stdout)"
    # Our own interpreter running our own module: no shell, no user input.
    child = subprocess.run(  # noqa: S603  # nosec B603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        check=False,
    )
    if child.returncode != 0:
        raise CliError(f"synthesizing the CDK app failed:\n{child.stderr.strip()[-4000:]}")
    template: dict[str, Any] = json.loads(child.stdout)
    return template


def check_gmi(gmi_base_url: str, gmi_api_key: str | None, screen: Console) -> None:
    """A GMI that cannot be reached would leave every job deferred (outage riding) until the demo gives up:
    say so at once. A missing key is only warned about: a local stand-in may not check it."""
    parts = urlsplit(gmi_base_url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        socket.create_connection((host, port), timeout=GMI_CONNECT_SECONDS).close()
    except OSError as error:
        raise CliError(
            f"GMI at {gmi_base_url} is not reachable ({error.strerror or error}); nothing was started"
        ) from None
    if not gmi_api_key:
        screen.print(
            "[yellow]warning: --gmi-base-url without --gmi-api-key: the placeholder key 'sim-key' is sent; "
            "a real GMI answers 401 and every job fails gmi_unauthorized[/]",
            soft_wrap=True,
        )


def refuse_plain_http(gmi_base_url: str) -> None:
    """The complete function downloads only https videos, so every job of a plain-http GMI would end
    `video_url_rejected` after a full generation: say so before starting anything."""
    scheme = urlsplit(gmi_base_url).scheme
    if scheme != "https":
        raise CliError(
            f"--gmi-base-url must be an https:// URL, not {scheme or 'no scheme'!r}: the pipeline fetches videos "
            "over https only, so every job would end video_url_rejected"
        )


def _stage_of(job: JobRecord, gmi_status: str | None) -> str:
    if job.status == JobStatus.PROCESSING and (gmi_status or "").lower() == "success":
        return "storing"
    return stage_of(job)


def demo_upload(model: str | None, prompt: str, image: Path) -> tuple[str | None, dict[str, Any]]:
    """(file name, settings) of the demo upload: the default model's quick settings, or another model's own
    defaults (the file name then names the model, so each model's video gets its own name)."""
    if model is None:
        return None, {"prompt": prompt, "quality": "540p", "duration": "5"}
    slug = "".join(c if c.isalnum() else "-" for c in model.lower())
    return f"{image.stem}-{slug}{image.suffix}", {"prompt": prompt, "model": model}


def run_demo(
    image: Path | None,
    prompt: str,
    out: Path,
    gmi_base_url: str | None,
    gmi_api_key: str | None,
    quiet: bool,
    model: str | None = None,
    pipeline: tuple[Any, Any] | None = None,
) -> dict[str, Any]:
    """`pipeline`: an already running (local stack, simulator) to use instead of starting one (tests)."""
    image = image or SAMPLE_IMAGE
    if model is not None and model not in catalog.ids():
        raise CliError(str(catalog.UnknownModelError(model)))
    read_image(image)  # a file that is no image is refused before anything starts, in the pipeline's words
    file_name, demo_settings = demo_upload(model, prompt, image)
    screen = Console(file=sys.stdout, highlight=False)

    def say(text: str) -> None:
        if not quiet:
            screen.print(text)

    started = time.monotonic()
    with ExitStack() as running:
        local, simulator = pipeline or running.enter_context(local_pipeline(gmi_base_url, gmi_api_key, screen, quiet))
        target = Target("local", local.outputs)
        tap = local.tap_events()
        say(f"[dim]emulated AWS at {local.endpoint_url}; GMI at {gmi_base_url or simulator.base_url}[/]")
        key = f"{target.input_prefix}{file_name}" if file_name else None
        uploaded = upload(target, image, key, demo_settings)
        say(f"  {_clock()}  [bold]uploaded[/] s3://{uploaded['bucket']}/{uploaded['key']}")
        job = find_job(target, f"s3://{uploaded['bucket']}/{uploaded['key']}", wait_seconds=30)
        stages = ["uploaded"]
        deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
        repo = target.repository()
        while True:
            job = repo.get(job.job_id) or job
            gmi_status = simulator.status_of(job.request_id) if simulator and job.request_id else job.gmi_status
            stage = _stage_of(job, gmi_status)
            if stage != stages[-1]:
                stages.append(stage)
                say(f"  {_clock()}  [bold]{stage}[/]")
            if job.status in ENDED:
                break
            if time.monotonic() > deadline:
                raise CliError(f"the demo job is still {stage} after {DEMO_TIMEOUT_SECONDS}s")
            time.sleep(0.2)
        wanted = DetailType.SUCCEEDED if job.status == JobStatus.SUCCEEDED else DetailType.FAILED
        events = tap.wait_for(wanted, timeout=15)
        if job.status != JobStatus.SUCCEEDED or job.output is None:
            reason = job.failure.message if job.failure else job.status
            raise CliError(f"the demo job ended as {job.status}: {reason}")
        video = _copy_out(local, job.output.bucket, job.output.key, out)
        info = {"path": str(video), **_probe(video)}
        result: dict[str, Any] = {
            "job": job.model_dump(mode="json", exclude_none=True),
            "event": events[0] if events else None,
            "video": info,
            "stages": stages,
            "seconds": round(time.monotonic() - started, 1),
        }
    if not quiet:
        _show(screen, result)
    return result


def _show(screen: Console, result: dict[str, Any]) -> None:
    info = result["video"]
    screen.rule("job record (DynamoDB)")
    screen.print_json(data=result["job"])
    screen.rule("event received by a subscriber rule (EventBridge)")
    screen.print_json(data=result["event"])
    screen.rule("video")
    screen.print(f"the functions' logs and metrics: {LAMBDA_LOG}")
    screen.print(
        f"[bold green]{info['path']}[/] ({info['bytes']} bytes, {info['width']}x{info['height']}, "
        f"{info['seconds']:.1f} s, {info['codec']}) in {result['seconds']} s"
    )


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _copy_out(local: Any, bucket: str, key: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    destination = out / Path(key).name
    local.client("s3").download_file(bucket, key, str(destination))
    return destination


def _probe(video: Path) -> dict[str, Any]:
    """Open the MP4 like a player would: proof that it is a real, playable video."""
    import av

    try:
        with av.open(str(video)) as container:
            if not container.streams.video:
                raise CliError(f"the stored video {video} has no video stream")
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
            return {
                "bytes": video.stat().st_size,
                "width": stream.width,
                "height": stream.height,
                "frames": frames,
                "seconds": seconds,
                "codec": stream.codec_context.name,
            }
    except av.FFmpegError as error:
        # One line for the user (main() prints CliError without a traceback).
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CliError(f"the stored video {video} could not be decoded: {reason}") from None


def local_functions(local: Any) -> dict[str, str]:
    """submit/poll/complete/fail -> the local stack's function names (for `i2v invoke`)."""
    return {spec.handler.split(".")[2]: spec.name for spec in local.functions.values()}


def serve_local(gmi_base_url: str | None, gmi_api_key: str | None) -> None:
    console = Console(file=sys.stdout, highlight=False)
    if (running := running_local_state()) is not None:
        aws = running.get("env", {}).get("AWS_ENDPOINT_URL", "?")
        raise CliError(
            f"a local stack is already up (pid {running.get('pid')}, AWS at {aws}): the other commands use it; "
            "stop it first (Ctrl-C in its shell) to start another"
        )
    with local_pipeline(gmi_base_url, gmi_api_key, console, quiet=False) as (local, simulator):
        # The simulator's throwaway CA too: `i2v estimate` in another shell reads GMI's price_info over https.
        ca = {"REQUESTS_CA_BUNDLE": simulator.ca_bundle_path} if simulator and simulator.ca_bundle_path else {}
        write_local_state(local.outputs, {**local.client_env(), **ca}, local_functions(local))
        try:
            console.print(f"local stack up: AWS at {local.endpoint_url}, GMI at {gmi_base_url or simulator.base_url}")
            console.print(f"functions log to {LAMBDA_LOG}")
            console.print("other shells: `i2v submit IMAGE --prompt ...`, `i2v list`, `i2v watch JOB` (Ctrl-C stops)")
            signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopping")
        finally:
            clear_local_state()
