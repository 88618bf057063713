"""Simulated time, so a scenario, benchmark or soak can live through hours in seconds: Powertools' circuit breaker
(it reads `datetime.datetime.now()` through its modules' `dt` name; this swaps that name) and moto's SQS clock."""

from __future__ import annotations

import contextlib
import datetime as _real_dt
import importlib
from collections.abc import Callable, Iterator
from time import time as _real_time
from types import SimpleNamespace
from typing import Any

BREAKER_MODULES = (
    "aws_lambda_powertools.utilities.circuit_breaker.base",
    "aws_lambda_powertools.utilities.circuit_breaker.persistence.base",
    "aws_lambda_powertools.utilities.circuit_breaker.persistence.dynamodb",
)


class _WarpedDatetime(_real_dt.datetime):
    now_seconds: Callable[[], float] = staticmethod(lambda: 0.0)

    @classmethod
    def now(cls, tz: _real_dt.tzinfo | None = None) -> _WarpedDatetime:  # type: ignore[override]
        moment = _real_dt.datetime.fromtimestamp(cls.now_seconds(), tz)
        return cls.fromtimestamp(moment.timestamp(), tz)


@contextlib.contextmanager
def breaker_clock(now_seconds: Callable[[], float]) -> Iterator[None]:
    """`with breaker_clock(clock.now):` the circuit breaker's notion of now is `clock.now()` (epoch seconds)."""
    warped = type("WarpedDatetime", (_WarpedDatetime,), {"now_seconds": staticmethod(now_seconds)})
    shim = SimpleNamespace(datetime=warped, timezone=_real_dt.timezone, timedelta=_real_dt.timedelta, UTC=_real_dt.UTC)
    modules = [importlib.import_module(name) for name in BREAKER_MODULES]
    saved = [module.dt for module in modules]  # type: ignore[attr-defined]
    try:
        for module in modules:
            module.dt = shim  # type: ignore[attr-defined]
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.dt = original  # type: ignore[attr-defined]


@contextlib.contextmanager
def sqs_clock(offset_seconds: Callable[[], float]) -> Iterator[None]:
    """moto's SQS clock (message delays, visibility timeouts, SentTimestamp) runs `offset_seconds()` ahead, so a
    delayed message comes due without being waited for. Whoever reads SentTimestamp must move with it."""
    import moto.sqs.models as sqs_models

    real = sqs_models.unix_time_millis  # type: ignore[attr-defined]

    def warped(*args: Any) -> float:
        return float(real(*args)) + offset_seconds() * 1000

    sqs_models.unix_time_millis = warped  # type: ignore[attr-defined,assignment]
    try:
        yield
    finally:
        sqs_models.unix_time_millis = real  # type: ignore[attr-defined]


@contextlib.contextmanager
def functions_warped(offset_seconds: Callable[[], float]) -> Iterator[None]:
    """moto's SQS clock, the clocks of the running local stack's submit, poll and watch services (those that
    read SentTimestamp, leases, settle windows and deadlines) and the GMI simulator's clock (its requests'
    `created_at`, its jobs' progress) run `offset_seconds()` ahead. GMI's moves with ours: left behind, a request
    created after a warp looks older than its POST by the warp, and reconciliation (a minute's clock skew allowed)
    does not find it: a second POST after a 503, an ambiguous job left unreconciled."""
    from i2v_local.simulator.jobs import GmiClock

    watch = importlib.import_module("i2v.handlers.watch").service()
    handlers = [importlib.import_module(f"i2v.handlers.{name}").service() for name in ("submit", "poll")]
    services = [*handlers, watch, watch.poller]
    saved = [service.clock for service in services]
    saved_gmi = GmiClock.offset
    try:
        with sqs_clock(offset_seconds):
            for service in services:
                service.clock = lambda: _real_time() + offset_seconds()
            GmiClock.offset = staticmethod(offset_seconds)  # type: ignore[assignment]
            yield
    finally:
        GmiClock.offset = staticmethod(saved_gmi)  # type: ignore[assignment]
        for service, clock in zip(services, saved, strict=True):
            service.clock = clock
