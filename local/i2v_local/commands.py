"""The harness's `i2v` commands: `demo`, `local up` and `simulate`, added to the CLI through its plugin group
(`i2v_cli.plugins`, declared in the root pyproject.toml). They run emulated AWS (moto) and the GMI simulator,
so they are added only where moto is installed (the dev extra); the CLI's own commands never need either."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from i2v_cli.output import Json, emit_json

GmiUrl = Annotated[
    str | None,
    typer.Option("--gmi-base-url", envvar="I2V_GMI_BASE_URL", help="use this GMI-compatible server, not our simulator"),
]
GmiKey = Annotated[
    str | None, typer.Option("--gmi-api-key", envvar="I2V_GMI_API_KEY", help="API key for --gmi-base-url")
]


def demo(
    image: Annotated[Path | None, typer.Argument(help="image to animate (default: the bundled sample)")] = None,
    prompt: Annotated[
        str, typer.Option(help="what should happen")
    ] = "the lighthouse beam sweeps slowly, waves shimmer",
    out: Annotated[Path, typer.Option(help="where the MP4 is copied")] = Path("out"),
    gmi_base_url: GmiUrl = None,
    gmi_api_key: GmiKey = None,
    model: Annotated[str | None, typer.Option(help="a catalog model (`i2v models`); default: the deployment's")] = None,
    as_json: Json = False,
) -> None:
    """Run the whole pipeline offline (emulated AWS + local GMI) on an image and keep the MP4."""
    from i2v_local.demo import run_demo

    result = run_demo(image, prompt, out, gmi_base_url, gmi_api_key, quiet=as_json, model=model)
    if as_json:
        emit_json(result)


def simulate(ctx: typer.Context) -> None:
    """Run the GMI simulator on its own (`i2v simulate --help` for its options)."""
    from i2v_local.simulator import main as simulator_main

    raise typer.Exit(simulator_main(list(ctx.args)))


def local_up(gmi_base_url: GmiUrl = None, gmi_api_key: GmiKey = None) -> None:
    """Start emulated AWS + the GMI simulator + the pipeline, until Ctrl-C."""
    from i2v_local.demo import serve_local

    serve_local(gmi_base_url, gmi_api_key)


def _moto_installed() -> bool:
    try:
        return importlib.util.find_spec("moto") is not None
    except ImportError:
        return False


def register(app: typer.Typer) -> None:
    """The `i2v_cli.plugins` entry point."""
    if not _moto_installed():
        return
    app.command()(demo)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)(
        simulate
    )
    local_app = typer.Typer(help="A long-running local stack that the other commands can talk to.")
    local_app.command("up")(local_up)
    app.add_typer(local_app, name="local")
