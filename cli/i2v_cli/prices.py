"""`i2v estimate`: what GMI would charge for an image with these settings, without submitting it.

`i2v estimate` prices a job as the deployment's submit function would (i2v.services.pricing: its gmi_prices >
GMI's price_info > documented > none), from the deployment's own configuration (the submit function's
environment) and GMI's price_info read with the deployment's key. Nothing is uploaded or sent to GMI but a GET.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from i2v.domain.pricing import JobPrice, price_of
from i2v.domain.settings import JobSettings
from i2v_cli.deployment import Deployment
from i2v_cli.models import parse_sets
from i2v_cli.output import CliError, console, emit_json
from i2v_cli.price_views import SOURCE_WORDS, rule_json, rule_origin, usd
from i2v_cli.target import Target, resolve_target
from i2v_cli.uploads import read_image


def _metadata_of(target: Target, image_or_key: str) -> tuple[dict[str, str], str]:
    """(metadata, key) of an object already in the input bucket: a key, or s3://bucket/key."""
    bucket, key = target.outputs["InputBucketName"], image_or_key
    if image_or_key.startswith("s3://"):
        bucket, _, key = image_or_key.removeprefix("s3://").partition("/")
    try:
        head = target.client("s3").head_object(Bucket=bucket, Key=key)
    except Exception as error:
        raise CliError(f"{image_or_key}: not a file here, nor an object of s3://{bucket}: {error}") from None
    return dict(head.get("Metadata") or {}), key


def estimate_job(
    target: Target, image_or_key: str, model: str | None, sets: list[str] | None, key: str | None
) -> tuple[JobSettings, JobPrice, list[str]]:
    deployment = Deployment.of(target)
    path = Path(image_or_key)
    if path.is_file():
        read_image(path)  # the same checks as `i2v submit`: a file that is no image is refused here
        metadata: dict[str, str] = {}
        object_key = key or f"{deployment.input_prefix}{path.name}"
    else:
        metadata, object_key = _metadata_of(target, image_or_key)
    metadata.update(parse_sets(sets))
    if model:
        metadata["model"] = model
    relative = object_key.removeprefix(deployment.input_prefix)
    settings = deployment.settings(metadata, relative)
    configured = deployment.configured()
    gmi = None if settings.model_id in configured else deployment.gmi_rule(settings.model_id)
    return settings, price_of(settings.model_id, settings.settings, configured, gmi), deployment.notes


Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]
Where = Annotated[
    str,
    typer.Option("--target", envvar="I2V_TARGET", help="local, aws (the deployed stack), a stack name, or auto"),
]


def estimate(
    image_or_key: Annotated[str, typer.Argument(help="an image file, or the key (s3://bucket/key) of an upload")],
    model: Annotated[str | None, typer.Option(help="a catalog model (`i2v models`); default: the deployment's")] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="a setting of the model: key=value (repeatable)")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="the key it would have (presets): default <input prefix><name>")
    ] = None,
    target: Where = "auto",
    as_json: Json = False,
) -> None:
    """What GMI would charge for this image with these settings, and by which rule: nothing is submitted."""
    settings, price, notes = estimate_job(resolve_target(target), image_or_key, model, sets, key)
    if as_json:
        emit_json(
            {
                "model": settings.model_id,
                "settings": settings.as_record(),
                "estimated_cost_usd": None if price.usd is None else float(price.usd),
                "price_source": str(price.source),
                "reason": price.reason,
                **{"rule": rule_json(price.source, price.rule)["rule"]},
                "notes": notes,
            }
        )
        return
    shown = ", ".join(f"{name}={value}" for name, value in settings.time_class().items())
    amount = usd(None if price.usd is None else float(price.usd)) or "no known price"
    lines = [f"{settings.model_id} ({shown or 'defaults'}): {amount}", f"  rule:   {price.reason}"]
    if price.rule is not None and rule_origin(price.rule):
        lines.append(f"  source: {SOURCE_WORDS[price.source]}, {rule_origin(price.rule)}")
    lines.extend(f"  note:   {note}" for note in notes)
    console.print("\n".join(lines), markup=False, soft_wrap=True)
