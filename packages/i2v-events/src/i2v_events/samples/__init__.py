"""One sample EventBridge event of each kind, as a subscriber receives it (for tests and for reading):

from i2v_events.samples import sample_event
event = sample_event("succeeded")     # a dict; parse_event(event) gives a VideoSucceeded

Each is its kind's `SAMPLE` (`i2v_events.v1.kinds.<kind>`); the `<kind>.json` files beside this module are
generated from them (`python -m i2v_events.schemas schemas/events/v1`).
"""

from __future__ import annotations

import copy
from typing import Any

from i2v_events.v1.kinds import KINDS as _KINDS

KINDS = tuple(_KINDS)


def sample_event(kind: str) -> dict[str, Any]:
    """The sample event of `kind` (submitted, succeeded, failed, preview_ready, manifest_completed)."""
    if kind not in _KINDS:
        raise ValueError(f"no such event kind {kind!r}: one of {', '.join(KINDS)}")
    return copy.deepcopy(dict(_KINDS[kind].sample))
