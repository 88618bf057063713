"""The circuit breaker in front of GMI submissions: Powertools' breaker, its state in the jobs table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools.utilities.circuit_breaker import (
    CircuitBreakerConfig,
    CircuitBreakerOpenError,
    CircuitState,
    circuit_breaker,
)
from aws_lambda_powertools.utilities.circuit_breaker.base import CircuitBreakerHandler
from aws_lambda_powertools.utilities.circuit_breaker.persistence import CircuitBreakerDynamoDBPersistence

from i2v.adapters.aws import client
from i2v.domain.gmi_answers import GmiRetryableError
from i2v.domain.pacing import CircuitOpenError

T = TypeVar("T")

CIRCUIT_NAME = "gmi-submit"
# Refusals in a row (provably nothing created: 429, 503, no connection) before submissions stop being sent.
FAILURE_THRESHOLD = 5
# While open, one probe POST after this long; the other uploads of an outage cost one look each.
RECOVERY_TIMEOUT_SECONDS = 60


class GmiSubmitBreaker:
    def __init__(
        self,
        table_name: str,
        failure_threshold: int = FAILURE_THRESHOLD,
        recovery_timeout_seconds: int = RECOVERY_TIMEOUT_SECONDS,
    ) -> None:
        self.table_name = table_name
        self._persistence: CircuitBreakerDynamoDBPersistence | None = None
        self.config = CircuitBreakerConfig(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_timeout_seconds,
            success_threshold=1,
            # Only refusals that created nothing count; an ambiguous answer or a 400 is not an outage.
            handled_exceptions=(GmiRetryableError,),
        )

    def _store(self) -> CircuitBreakerDynamoDBPersistence:
        # One store per client: building one registers a user-agent hook on the client, so a store per call
        # would pile hooks onto the cached client. A new client (a new local stack) gets a new store.
        current = client("dynamodb")
        if self._persistence is None or self._persistence.client is not current:
            self._persistence = CircuitBreakerDynamoDBPersistence(
                table_name=self.table_name,
                key_attr="pk",
                sort_key_attr="sk",
                static_pk_value="CIRCUIT#gmi",
                expiry_attr="expires_at",
                boto3_client=current,
            )
        return self._persistence

    def is_open(self) -> bool:
        """One look: open and not yet due for its probe. Checked before a job takes a turn in the pace, so a
        parked upload costs neither a turn nor a POST."""
        store = self._store()
        store.configure(config=self.config, circuit_name=CIRCUIT_NAME)
        record = store.get_state(CIRCUIT_NAME)
        if record.state != CircuitState.OPEN:
            return False
        opened_at = record.opened_at if record.opened_at is not None else 0
        return bool(CircuitBreakerHandler._now() < opened_at + self.config.recovery_timeout)

    def call(self, submit: Callable[[], T]) -> T:
        """Run `submit` unless the circuit is open (CircuitOpenError: nothing was sent)."""
        guarded = circuit_breaker(name=CIRCUIT_NAME, persistence_store=self._store(), config=self.config)(submit)
        try:
            result: T = guarded()
        except CircuitBreakerOpenError as open_circuit:
            raise CircuitOpenError(str(open_circuit)) from None
        return result
