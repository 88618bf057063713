"""`i2v models` and `i2v models show ID`: the GMI model catalog, and `--set key=value` parsing for submit."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from i2v.domain import catalog
from i2v.domain.pricing import DOCUMENTED, PriceRule, PriceSource
from i2v_cli.catalog_docs import summary, summary_data
from i2v_cli.deployment import Deployment
from i2v_cli.output import CliError, console, emit_json
from i2v_cli.price_views import model_price_lines, price_summary, rule_json
from i2v_cli.target import resolve_target

models_app = typer.Typer(help="The GMI image-to-video models the pipeline can use.", invoke_without_command=True)

Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
Where = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="price as this deployment does (local, aws, a stack name): its gmi_prices, GMI's price_info; "
        "default: GMI's documented prices only, offline",
    ),
]


def prices_of(target: str | None, model_ids: tuple[str, ...]) -> dict[str, tuple[PriceSource, PriceRule | None]]:
    """Each model's rule and its source: the deployment's (with --target) or the documented one."""
    if target is None:
        return {
            m: (PriceSource.DOCUMENTED, DOCUMENTED[m]) if m in DOCUMENTED else (PriceSource.NONE, None)
            for m in model_ids
        }
    deployment = Deployment.of(resolve_target(target))
    rules = {model_id: deployment.rule(model_id) for model_id in model_ids}
    for note in dict.fromkeys(deployment.notes):
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    return rules


COLUMNS = ("id", "image", "durations", "resolutions", "end_frame", "audio", "price")
# Narrower than this, the table's columns would be cut mid-word: each model is printed as a block instead.
WIDE_ENOUGH = 160


@models_app.callback()
def list_models(ctx: typer.Context, target: Where = None, as_json: Json = False) -> None:
    """The catalog as a table: id, image field, durations, resolutions, end frame, audio, price rule."""
    if ctx.invoked_subcommand is not None:
        return
    prices = prices_of(target, catalog.ids())
    if as_json:
        emit_json([{**summary_data(m), "price": rule_json(*prices[m])} for m in catalog.ids()])
        return
    rows = [{**summary(model_id), "price": price_summary(*prices[model_id])} for model_id in catalog.ids()]
    if console.width >= WIDE_ENOUGH:
        from rich.table import Table

        table = Table(*(column.replace("_", " ") for column in COLUMNS))
        table.columns[0].no_wrap = True
        for row in rows:
            table.add_row(*(row[column] for column in COLUMNS))
        console.print(table)
    else:  # a narrow terminal: one block per model, nothing cut
        for row in rows:
            console.print(f"[bold]{row['id']}[/]")
            lines = [f"  {column.replace('_', ' '):<12}{row[column]}" for column in COLUMNS[1:]]
            console.print("\n".join(lines), markup=False, soft_wrap=True)
    console.print(f"default model: {catalog.DEFAULT_MODEL_ID}; details: i2v models show ID")
    if target is None:
        console.print("prices: GMI's documented ones; a deployment's own (gmi_prices, GMI's price_info): --target")


@models_app.command("show")
def show_model(
    model_id: Annotated[str, typer.Argument(help="a model id from `i2v models`")],
    target: Where = None,
    as_json: Json = False,
) -> None:
    """One model's parameters: types, accepted values, defaults, where the image goes, its time class."""
    try:
        schema = catalog.parameter_schema(model_id)
    except catalog.UnknownModelError as error:
        raise CliError(str(error)) from None
    source, rule = prices_of(target, (model_id,))[model_id]
    if as_json:
        emit_json({**schema, "price": rule_json(source, rule)})
        return
    from rich.table import Table

    row = summary(model_id)
    console.print(f"[bold]{model_id}[/]  {schema['docs']}")
    console.print(f"image: {row['image']}   end frame: {row['end_frame']}   audio: {row['audio']}")
    console.print(f"polling expectation learned per: {' x '.join(schema['time_class_fields'])}")
    table = Table("setting", "accepts", "default", "required")
    model_fields = catalog.get(model_id).model_fields
    for name, prop in schema["properties"].items():
        if name in model_fields:
            default = prop.get("default")
            shown = "" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
            table.add_row(name, prop["accepts"], shown, "yes" if prop.get("required") else "")
    console.print(table)
    for rule in schema["rules"]:
        console.print(f"rule: {rule}")
    for choice in schema["choices"]:
        console.print(f"our reading: {choice}")
    console.print("\n".join(model_price_lines(model_id, rule, source)), markup=False, soft_wrap=True)


def parse_sets(pairs: list[str] | None) -> dict[str, Any]:
    """`--set key=value` options -> settings (text; the catalog gives each value its documented type)."""
    settings: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--set {pair!r}: use key=value, e.g. --set duration=10")
        settings[key.strip()] = value
    return settings
