"""Schema version 1 of the i2v pipeline's events (`detail.schema_version == "1"`).

Exports every public name of `details` (the detail models: pydantic alone) and of `events` (the whole events, on
Powertools' EventBridgeModel). `events` loads when one of its names is first read: its parser models take tens of
milliseconds to import, and the pipeline's functions, which build details only, never pay for them.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from i2v_events._lazy import whole_event_attribute
from i2v_events.v1 import details as _details
from i2v_events.v1.details import *  # noqa: F403

if TYPE_CHECKING:
    from i2v_events.v1._deprecated import *  # noqa: F403
    from i2v_events.v1.events import *  # noqa: F403


# Runtime only: type checkers see the star imports above, and an unknown name stays an error for them.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        deprecated = importlib.import_module("i2v_events.v1._deprecated")
        if name in deprecated.__all__:
            warnings.warn(
                f"i2v_events.v1.{name} is deprecated (pixverse-v5.5's values; settings are per model since the "
                "catalog) and will be removed in 2.0",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(deprecated, name)
        return whole_event_attribute(globals(), __name__, name, [*_details.__all__, *deprecated.__all__])
