"""Typed models of the i2v pipeline's EventBridge events and webhooks, one module per schema version.

from i2v_events import parse_event, VideoSucceeded     # the current version (v1)
from i2v_events.v1 import SucceededDetail               # or pin the version you read

Exports the current version's names and the webhooks'; the whole-event models load when first read (`i2v_events.v1`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from i2v_events import webhooks as _webhooks
from i2v_events.v1 import details as _details
from i2v_events.v1.details import *  # noqa: F403
from i2v_events.webhooks import *  # noqa: F403

if TYPE_CHECKING:
    from i2v_events.v1.events import *  # noqa: F403


# Runtime only: type checkers see the star imports above, and an unknown name stays an error for them.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name.startswith("__") and name != "__all__":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        events = importlib.import_module("i2v_events.v1.events")
        if name == "__all__":
            value: Any = [*_details.__all__, *events.__all__, *_webhooks.__all__]
        elif name in events.__all__:
            value = getattr(events, name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value
