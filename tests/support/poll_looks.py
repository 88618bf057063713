"""Every look of the poll loop at GMI, with its verdict, in the order they were made, whoever made them.

Two places look: the watch function (i2v.services.watch, one look per delayed watch-queue message while the
Watch state waits on its task token) and the Poll task (i2v.handlers.poll: the fallback after a failed Watch,
and the first step of the store loop). Both get the verdict from `i2v.services.store_later.look`. Neither
leaves every verdict where a test could read it afterwards: a watch invocation returns only
`batchItemFailures`, and the execution history holds only the verdict that ended each Watch state (the
`waiting` ones never reach the state machine). So the recorder wraps `look` where those two modules call it:

    looks = record_looks(monkeypatch)   # once the stack runs (starting a stack reloads the handler modules)
    stack.run_until_idle()
    looks.verdicts(job_id)              # [{"outcome": "waiting", "gmi_status": ..., ...}, ...] (PollResult JSON)
    looks.made                          # [Look(by="Watch" | "Poll", state, verdict, error), ...]
    looks.after.append(callback)        # callback(look), right after each look, inside its invocation
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from i2v.domain.workflow import PollResult, PollState
from i2v.services.poll import PollService

Looker = Literal["Watch", "Poll"]
# Where each looker calls `look` (module, as that module imports it).
LOOKERS: dict[Looker, str] = {"Watch": "i2v.services.watch", "Poll": "i2v.handlers.poll"}


@dataclass(frozen=True)
class Look:
    by: Looker  # "Watch": the watch function; "Poll": the Poll task of the state machine
    state: PollState  # the execution state it looked for (`state.poll`: the verdict before this one)
    verdict: dict[str, Any] | None  # the PollResult as the state machine gets it; None when the look raised
    error: str | None = None  # "ErrorType: message" when the look raised

    @property
    def job_id(self) -> str:
        return self.state.job_id

    @property
    def store_loop(self) -> bool:
        """A look of the store loop: Complete could not store the video (`store_error` is set)."""
        return self.state.store_error is not None


@dataclass
class Looks:
    made: list[Look] = field(default_factory=list)
    after: list[Callable[[Look], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def of(self, job_id: str | None = None, by: Looker | None = None) -> list[Look]:
        with self._lock:
            return [
                look
                for look in self.made
                if (job_id is None or look.job_id == job_id) and (by is None or look.by == by)
            ]

    def verdicts(self, job_id: str | None = None, by: Looker | None = None) -> list[dict[str, Any]]:
        """The verdicts, in order (a look that raised has none: see `errors`)."""
        return [look.verdict for look in self.of(job_id, by) if look.verdict is not None]

    def errors(self, job_id: str | None = None) -> list[str]:
        return [look.error for look in self.of(job_id) if look.error is not None]

    def _record(self, look: Look) -> None:
        with self._lock:
            self.made.append(look)
        for callback in list(self.after):
            callback(look)


def record_looks(monkeypatch: pytest.MonkeyPatch) -> Looks:
    """Record every look from now on (undone with `monkeypatch`). Install it once the stack has started:
    starting a stack reloads the handler modules, which would drop the wrapper from i2v.handlers.poll."""
    import importlib

    looks = Looks()
    for by, module_name in LOOKERS.items():
        module = importlib.import_module(module_name)
        monkeypatch.setattr(module, "look", _recording(module.look, by, looks))
    return looks


def _recording(real: Callable[..., PollResult], by: Looker, looks: Looks) -> Callable[..., PollResult]:
    def look(service: PollService, state: PollState, *args: Any, **kwargs: Any) -> PollResult:
        try:
            result = real(service, state, *args, **kwargs)
        except Exception as error:
            looks._record(Look(by, state, None, f"{type(error).__name__}: {error}"))
            raise
        looks._record(Look(by, state, result.dumped()))
        return result

    return look
