"""Finding an ambiguous submission in GMI's request list by what only this job sent.

A request is ours when its payload carries our presigned image URL's object address (scheme, host and
path: never the query, which holds the signature and changes with every presigning) and GMI created it
inside the window in which we were sending. Both are facts GMI echoes back; nothing secret is compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Allowance for the difference between our clock and GMI's (its timestamps are whole seconds).
CLOCK_SKEW_SECONDS = 60.0


class ListIncompleteError(Exception):
    """GMI's request list ended before the `total` it announced: whether it holds a job cannot be told."""


class NoTimeForListError(Exception):
    """The invocation has too little time left to read the next page of GMI's list (and act on what it shows)."""


@dataclass(frozen=True)
class Candidate:
    request_id: str
    status: str
    created_at: float | None
    payload: dict[str, Any]


def object_address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _urls(payload: dict[str, Any]) -> Iterable[str]:
    for value in payload.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, str))


def find_submission(
    candidates: Iterable[Candidate], image_url: str, sent_after: float, sent_before: float
) -> Candidate | None:
    """The newest request created in [sent_after, sent_before] (widened by the clock skew) whose payload
    names our image; None when there is none."""
    address = object_address(image_url)
    earliest, latest = sent_after - CLOCK_SKEW_SECONDS, sent_before + CLOCK_SKEW_SECONDS
    matches = [
        candidate
        for candidate in candidates
        if candidate.created_at is not None
        and earliest <= candidate.created_at <= latest
        and any(object_address(url) == address for url in _urls(candidate.payload))
    ]
    return max(matches, key=lambda candidate: candidate.created_at or 0.0, default=None)
