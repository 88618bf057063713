"""`i2v estimate`: what GMI would charge for an image with these settings, without submitting it.

`i2v estimate` prices a job as the deployment's submit function would (i2v.services.pricing: its gmi_prices >
GMI's price_info > documented > none), from the deployment's own configuration (the submit function's
environment) and GMI's price_info read with the deployment's key. Nothing is uploaded or sent to GMI but a GET.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from i2v.adapters.gmi import GmiClient, GmiError
from i2v.domain import catalog
from i2v.domain.pricing import JobPrice, PriceRule, PriceRuleError, configured_rules, price_of, rule_from_price_info
from i2v.domain.settings import InvalidSettingsError, JobSettings, resolve_settings
from i2v_local.cli.models import parse_sets
from i2v_local.cli.output import CliError, console, emit_json
from i2v_local.cli.price_views import SOURCE_WORDS, rule_json, rule_origin, usd
from i2v_local.cli.target import Target, resolve_target
from i2v_local.cli.uploads import read_image


# ---- the deployment's configuration -------------------------------------------------------------------------
@dataclass
class Deployment:
    """What the submit function prices with: its environment, and GMI's price_info asked with its key."""

    variables: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, target: Target) -> Deployment:
        name = target.function_name("submit")
        config = target.client("lambda").get_function_configuration(FunctionName=name)
        return cls(dict((config.get("Environment") or {}).get("Variables") or {}))

    def _json(self, name: str, default: Any) -> Any:
        return json.loads(self.variables[name]) if self.variables.get(name) else default

    @property
    def model_id(self) -> str:
        return self.variables.get("GMI_MODEL_ID") or catalog.DEFAULT_MODEL_ID

    @property
    def input_prefix(self) -> str:
        return self.variables.get("INPUT_PREFIX", "incoming/")

    def configured(self) -> dict[str, PriceRule]:
        try:
            return configured_rules(self._json("GMI_PRICES", {}))
        except PriceRuleError as error:
            raise CliError(f"the deployment's GMI_PRICES is invalid: {error}") from None

    def settings(self, metadata: dict[str, str], relative_key: str) -> JobSettings:
        defaults, presets = self._json("DEFAULT_SETTINGS", {"prompt": ""}), self._json("PREFIX_PRESETS", {})
        try:
            return resolve_settings(metadata, relative_key, presets, defaults, self.model_id)
        except InvalidSettingsError as error:
            raise CliError(f"invalid settings: {error}") from None

    def gmi_rule(self, model_id: str) -> PriceRule | None:
        """GMI's price_info with the deployment's key; a note instead when GMI cannot be asked or read."""
        from i2v.adapters.secrets import ApiKeyReader

        base_url, secret = self.variables.get("GMI_BASE_URL"), self.variables.get("GMI_API_KEY_SECRET_ID")
        if not base_url or not secret:
            self.notes.append("GMI's price_info not read: the submit function names no GMI_BASE_URL or key")
            return None
        client = GmiClient(base_url, ApiKeyReader(secret), model_id, timeout_seconds=5)
        try:
            info = client.price_info(model_id)
            return None if info is None else rule_from_price_info(info)
        except (GmiError, PriceRuleError) as error:
            self.notes.append(f"GMI's price_info not used: {error}")
        except Exception as error:  # the key unreadable (permissions, an empty secret): still estimate
            self.notes.append(f"GMI's price_info not read: {type(error).__name__}: {error}")
        return None


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
