"""Powertools' circuit breaker counts failures per execution environment (module state that outlives a test):
start each test that depends on it from a fresh environment."""

from __future__ import annotations


def fresh_breaker_counters() -> None:
    from aws_lambda_powertools.utilities.circuit_breaker import base

    for counters in (base._LOCAL_FAILURES, base._LOCAL_SUCCESSES, base._LAST_OBSERVED_STATE):
        counters.clear()  # type: ignore[attr-defined]
