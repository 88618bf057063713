"""Lambda's INIT phase without the cyclic garbage collector: imported first by each handler module.

Importing a handler creates long-lived objects (modules, classes, pydantic validators) and next to no garbage, yet
the collector's passes over them took ~30 ms of each cold start (docs/benchmarks.md, "Cold start"). When the
handler module is initialised it calls `done()`: what it built is frozen out of every later collection (which also
spares warm invocations from scanning it) and collection resumes.
"""

from __future__ import annotations

import gc

gc.disable()


def done() -> None:
    gc.freeze()
    gc.enable()
