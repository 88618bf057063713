"""Webhook I/O: the signing secret (Powertools Parameters, cached, registered for redaction) and the POST."""

from __future__ import annotations

import requests
from aws_lambda_powertools.utilities import parameters

from i2v.domain.redaction import register_secret
from i2v.domain.webhooks import SECRET_PREFIX, receiver

CACHE_SECONDS = 300
# Connect, read: a receiver that needs longer should acknowledge first and work afterwards.
TIMEOUT = (3.05, 10.0)


def read_secret(secret_id: str) -> str:
    raw = parameters.get_secret(secret_id, max_age=CACHE_SECONDS)
    value = (raw.decode() if isinstance(raw, bytes) else str(raw)).strip()
    register_secret(value)
    register_secret(value.removeprefix(SECRET_PREFIX))
    return value


class WebhookPoster:
    def __init__(self, session: requests.Session | None = None) -> None:
        self._session = session or requests.Session()

    def post(self, url: str, body: str, headers: dict[str, str]) -> int:
        """The receiver's status code; raises ConnectionError naming only the receiver's host."""
        try:
            response = self._session.post(
                url, data=body.encode(), headers=headers, timeout=TIMEOUT, allow_redirects=False
            )
        except requests.RequestException as error:
            raise ConnectionError(f"{receiver(url)}: {type(error).__name__}") from None
        response.close()
        return response.status_code
