"""The whole-event models load when one of their names is first read (their Powertools parser models take tens of
milliseconds to import; the pipeline's functions build details only and never pay for them)."""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping, Sequence
from typing import Any

EVENTS_MODULE = "i2v_events.v1.events"


def whole_event_attribute(namespace: MutableMapping[str, Any], module: str, name: str, eager: Sequence[str]) -> Any:
    """A module `__getattr__`'s answer: a name of the whole-event models (kept in `namespace` once read), or
    `__all__` as the module's `eager` names followed by theirs."""
    if name.startswith("__") and name != "__all__":
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    events = importlib.import_module(EVENTS_MODULE)
    if name == "__all__":
        value: Any = [*eager, *events.__all__]
    elif name in events.__all__:
        value = getattr(events, name)
    else:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    namespace[name] = value
    return value
