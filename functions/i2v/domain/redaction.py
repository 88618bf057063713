"""Keep secrets out of everything we write down: logs, records, events, exception messages."""

from __future__ import annotations

import re
import threading

REDACTED = "[REDACTED]"

# Query strings of signed URLs (S3 SigV4, GCS, CloudFront) carry credentials; drop the whole query.
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*", re.IGNORECASE)
_SIGNATURE_PARAM = re.compile(
    r"((?:X-Amz-(?:Signature|Credential|Security-Token)|X-Goog-(?:Signature|Credential)|Signature|"
    r"Key-Pair-Id|Policy|token|sig)=)[^&\s\"'<>]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)

_known_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Secrets read at run time (the GMI API key) are scrubbed verbatim wherever they show up."""
    if value and len(value) >= 6:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    cleaned = _URL_QUERY.sub(lambda m: f"{m.group(1)}?{REDACTED}", text)
    cleaned = _SIGNATURE_PARAM.sub(lambda m: f"{m.group(1)}{REDACTED}", cleaned)
    cleaned = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", cleaned)
    for secret in tuple(_known_secrets):
        cleaned = cleaned.replace(secret, REDACTED)
    return cleaned


def safe_url(url: str) -> str:
    """A URL fit for a log line: scheme, host and path only."""
    return redact(url.split("#", 1)[0])


def truncate(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
