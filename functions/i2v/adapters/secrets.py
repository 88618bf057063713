"""The GMI API key, read through Powertools Parameters (cached) and registered for redaction."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters

from i2v.domain.redaction import register_secret

CACHE_SECONDS = 300


class MissingApiKeyError(RuntimeError):
    """The secret exists but holds no key yet (as CDK creates it)."""


class ApiKeyReader:
    """Callable so the GMI client fetches the key lazily and picks up rotations after the cache expires."""

    def __init__(self, secret_id: str) -> None:
        self._secret_id = secret_id

    def __call__(self) -> str:
        raw = parameters.get_secret(self._secret_id, max_age=CACHE_SECONDS)
        value = raw.decode() if isinstance(raw, bytes) else str(raw)
        key = value.strip()
        if key.startswith("{"):
            key = str(json.loads(key).get("api_key", "")).strip()
        if not key:
            raise MissingApiKeyError(
                "the GMI API key secret is empty; set it with `aws secretsmanager put-secret-value`"
            )
        register_secret(key)
        return key
