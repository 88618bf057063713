"""Secrets must never be written down: assert that logs, records, events and errors carry none.

    from support.leaks import assert_no_secrets
    assert_no_secrets([caplog.text, items, events, error], secrets=[api_key])

Each item may be a str, bytes, an exception (message, args, notes, traceback and the cause/context chain
are scanned) or any JSON-like structure (dicts, lists, DynamoDB items, EventBridge entries), which is
serialized first. An item is leaking if it contains a given secret (verbatim, URL-encoded or JSON-escaped)
or a signed-URL credential marker (X-Amz-Signature, X-Amz-Credential, X-Goog-Signature, Signature=, ...)
that is not followed by our redaction placeholder.

The failure message never repeats a secret: it is shown as <secret #n>.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"  # i2v.domain.redaction.REDACTED; kept literal so the helper does not trust the code under test

#: Query parameters and headers that carry the signature or the credential of a signed URL (S3 SigV4,
#: SigV2, GCS V4, CloudFront). Matched case-insensitively, also URL-encoded (`X-Amz-Signature%3D...`).
SIGNATURE_MARKERS: tuple[str, ...] = (
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "X-Goog-Signature",
    "X-Goog-Credential",
    "Signature=",
    "whsec_",  # a Standard Webhooks signing secret (the webhooks' key), wherever it turns up
)


@dataclass(frozen=True)
class Leak:
    item: int  # index of the leaking item in the scanned sequence
    kind: str  # "secret #n" or "marker <name>"
    context: str  # the text around the hit, secrets masked

    def __str__(self) -> str:
        return f"item {self.item}: {self.kind} in …{self.context}…"


def as_text(item: Any) -> str:
    """Everything of `item` that could end up in a log line or a stored record, as one string."""
    if isinstance(item, str):
        return item
    if isinstance(item, bytes | bytearray):
        return bytes(item).decode("utf-8", "replace")
    if isinstance(item, BaseException):
        return _exception_text(item)
    try:
        return json.dumps(item, default=_fallback, sort_keys=True)
    except (TypeError, ValueError):
        return repr(item)


def _fallback(value: Any) -> Any:
    if isinstance(value, BaseException):
        return _exception_text(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def _exception_text(error: BaseException) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        parts.append(repr(current.args))
        parts.extend(str(note) for note in getattr(current, "__notes__", ()))
        parts.append("".join(traceback.format_exception(type(current), current, current.__traceback__)))
        parts.extend(f"{k}={v!r}" for k, v in vars(current).items() if not k.startswith("__"))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def _variants(secret: str) -> set[str]:
    """The forms a secret takes when it is logged raw, put in a URL, or serialized into JSON."""
    return {v for v in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]) if v}


_PLACEHOLDERS = (REDACTED, quote(REDACTED, safe=""))


def _marker_hits(text: str, marker: str) -> list[int]:
    """Offsets of `marker` in `text` whose value is not our placeholder (a redacted marker is fine)."""
    name = marker.rstrip("=").lower()
    lowered, hits, at = text.lower(), [], 0
    while (at := lowered.find(name, at)) >= 0:
        rest = text[at + len(name) :]
        for separator in ("=", "%3D", "%3d"):
            if rest.startswith(separator):
                rest = rest[len(separator) :]
                break
        else:
            if marker.endswith("="):  # "Signature=" only counts with its "=" (plain "signature" is a word)
                at += len(name)
                continue
        if not rest.startswith(_PLACEHOLDERS):
            hits.append(at)
        at += len(name)
    return hits


def find_secrets(
    items: Iterable[Any],
    secrets: Iterable[str] = (),
    *,
    markers: Iterable[str] = SIGNATURE_MARKERS,
) -> list[Leak]:
    """Every leak in `items` (see the module docstring); an empty list when they are clean."""
    secret_list = [s for s in secrets if s]
    variants = [(n, v) for n, s in enumerate(secret_list, 1) for v in sorted(_variants(s), key=len, reverse=True)]
    marker_list = list(markers)
    leaks: list[Leak] = []
    for index, item in enumerate(items):
        text = as_text(item)
        for number, variant in variants:
            at = text.find(variant)
            if at >= 0:
                leaks.append(Leak(index, f"secret #{number}", _context(text, at, secret_list)))
        for marker in marker_list:
            for at in _marker_hits(text, marker):
                leaks.append(Leak(index, f"marker {marker}", _context(text, at, secret_list)))
    return leaks


def _context(text: str, at: int, secrets: list[str], width: int = 60) -> str:
    snippet = text[max(0, at - width) : at + width]
    for number, secret in enumerate(secrets, 1):
        for variant in _variants(secret):
            snippet = snippet.replace(variant, f"<secret #{number}>")
    return snippet.replace("\n", "\\n")


def assert_no_secrets(
    items: Iterable[Any],
    secrets: Iterable[str] = (),
    *,
    markers: Iterable[str] = SIGNATURE_MARKERS,
    what: str = "",
) -> None:
    """Fail with every leak found (secrets masked) unless `items` carry no secret and no signature marker."""
    materialized = list(items)
    leaks = find_secrets(materialized, secrets, markers=markers)
    if leaks:
        where = f" in {what}" if what else ""
        raise AssertionError(f"{len(leaks)} secret leak(s){where}:\n" + "\n".join(f"  {leak}" for leak in leaks))
