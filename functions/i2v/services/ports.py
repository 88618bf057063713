"""Small interfaces the services need from the outside world, so they stay free of Lambda specifics."""

from __future__ import annotations

from typing import Any, Protocol


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class Requeue(Protocol):
    def __call__(self, body: dict[str, Any], delay_seconds: int) -> None: ...


class NullMetrics:
    def add_metric(self, name: str, unit: Any, value: float) -> None:
        return None
