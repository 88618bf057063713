"""The deployment the CLI talks to, as its submit function prices: the submit function's environment
(GMI_MODEL_ID, DEFAULT_SETTINGS, PREFIX_PRESETS, GMI_PRICES) and GMI's price_info asked with its key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from i2v.adapters.gmi import GmiClient
from i2v.domain import catalog
from i2v.domain.gmi_answers import GmiError
from i2v.domain.pricing import (
    PriceRule,
    PriceRuleError,
    PriceSource,
    chosen_rule,
    configured_rules,
    rule_from_price_info,
)
from i2v.domain.settings import InvalidSettingsError, JobSettings, resolve_settings
from i2v_cli.output import CliError
from i2v_cli.target import Target


@dataclass
class Deployment:
    """What the submit function prices with: its environment, and GMI's price_info asked with its key."""

    variables: dict[str, str]
    notes: list[str] = field(default_factory=list)
    _gmi: GmiClient | None = None

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
        if self._gmi is None:  # one client: its price_info cache spares a second look at the same model
            self._gmi = GmiClient(base_url, ApiKeyReader(secret), model_id, timeout_seconds=5)
        client = self._gmi
        try:
            info = client.price_info(model_id)
            return None if info is None else rule_from_price_info(info)
        except (GmiError, PriceRuleError) as error:
            self.notes.append(f"GMI's price_info not used: {error}")
        except Exception as error:  # the key unreadable (permissions, an empty secret): still estimate
            self.notes.append(f"GMI's price_info not read: {type(error).__name__}: {error}")
        return None

    def rule(self, model_id: str) -> tuple[PriceSource, PriceRule | None]:
        """The rule the submit function would price this model with, and whose it is."""
        configured = self.configured()
        gmi = None if model_id in configured else self.gmi_rule(model_id)
        return chosen_rule(model_id, configured, gmi)
