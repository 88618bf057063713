"""Typed models of the i2v pipeline's EventBridge events and webhooks, one module per schema version.

from i2v_events import parse_event, VideoSucceeded     # the current version (v1)
from i2v_events.v1 import SucceededDetail               # or pin the version you read

Exports the current version's names and the webhooks'; the whole-event models load when first read (`i2v_events.v1`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from i2v_events import webhooks as _webhooks
from i2v_events._lazy import whole_event_attribute
from i2v_events.v1 import details as _details
from i2v_events.v1.details import *  # noqa: F403
from i2v_events.webhooks import *  # noqa: F403

if TYPE_CHECKING:
    from i2v_events.v1.events import *  # noqa: F403


# Runtime only: type checkers see the star imports above, and an unknown name stays an error for them.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        return whole_event_attribute(globals(), __name__, name, [*_details.__all__, *_webhooks.__all__])
