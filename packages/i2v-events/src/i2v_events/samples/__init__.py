"""One sample EventBridge event of each kind, as a subscriber receives it (for tests and for reading):

from i2v_events.samples import sample_event
event = sample_event("succeeded")     # a dict; parse_event(event) gives a VideoSucceeded
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from i2v_events.v1.details import DETAIL_KINDS

KINDS = tuple(DETAIL_KINDS)


def sample_event(kind: str) -> dict[str, Any]:
    """The sample event of `kind` (submitted, succeeded, failed, preview_ready, manifest_completed)."""
    if kind not in DETAIL_KINDS:
        raise ValueError(f"no such event kind {kind!r}: one of {', '.join(KINDS)}")
    event: dict[str, Any] = json.loads(resources.files(__package__).joinpath(f"{kind}.json").read_text())
    return event
