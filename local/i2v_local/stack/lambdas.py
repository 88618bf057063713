"""Runs our Lambda handlers in-process, for moto's Lambda Invoke (used by Step Functions) and for the pump.

moto would run a function in Docker; `LambdaFunction._invoke_lambda` (private, moto pinned to 5.2.5,
checked by compat.py and its canary test) is replaced so an invocation of one of our handlers imports and calls it here.
A handler exception becomes what AWS returns for an unhandled error: a function error whose payload is
`{"errorType": <class name>, "errorMessage": str(exc)}`, which Step Functions matches in Retry/Catch.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction

from i2v_local.stack.aws_faults import InvocationKilled, killable
from i2v_local.stack.resources import FunctionSpec

_MOTO_INVOKE: Callable[..., tuple[str, bool, str]] = LambdaFunction._invoke_lambda


@dataclass
class FakeLambdaContext:
    """The attributes of a Lambda context object that Powertools and our handlers read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    payload: Any  # the handler's result, or the error object
    error: bool
    killed: bool = False  # ended at its timeout (aws_faults): its answer, partial batch response included, is lost


class HandlerRouter:
    """Maps function name / ARN / handler string to the real handler module and calls it.

    One lock per function by default: a handler module holds per-invocation state (Powertools' metrics and
    correlation id), like a single warm Lambda instance, so invocations of one function never overlap.
    Functions named in `parallel` run without that lock (Lambda's many instances at once); whoever invokes
    them bounds the concurrency (the SQS pump, by its mapping's MaximumConcurrency).
    """

    def __init__(self, functions: Iterable[FunctionSpec], parallel: Iterable[str] = ()) -> None:
        self.functions = {f.name: f for f in functions}
        overlapping = set(parallel)
        self._locks: dict[str, AbstractContextManager[Any]] = {
            name: nullcontext() if name in overlapping else threading.Lock() for name in self.functions
        }
        self.invocations: list[tuple[str, Any, Invocation]] = []  # (function name, event, result)
        self._record_lock = threading.Lock()
        # Test seams, called around every invocation (e.g. inject a simulator fault before the first
        # Complete and clear it after, to make exactly one attempt fail).
        self.before_invoke: list[Callable[[FunctionSpec, Any], None]] = []
        self.after_invoke: list[Callable[[FunctionSpec, Any, Invocation], None]] = []

    @property
    def handler_modules(self) -> list[str]:
        return sorted({f.handler.rsplit(".", 1)[0] for f in self.functions.values()})

    def load_handlers(self) -> None:
        """(Re)import every handler module so its import-time env validation runs against this stack."""
        _metrics_follow_environment()
        _forget_composed_services()  # also those built by a handler this stack has not imported yet
        for name in self.handler_modules:
            module = sys.modules.get(name)
            if module is None:
                importlib.import_module(name)
            else:
                _clear_service(module)
                importlib.reload(module)

    def unload_handlers(self) -> None:
        """Forget the services built for this stack, so later imports validate their own environment."""
        for name in self.handler_modules:
            module = sys.modules.get(name)
            if module is not None:
                _clear_service(module)

    def find(self, name_or_arn: str) -> FunctionSpec | None:
        for spec in self.functions.values():
            if name_or_arn in (spec.name, spec.arn) or name_or_arn.startswith(spec.arn + ":"):
                return spec
        return None

    def invoke(
        self,
        function: FunctionSpec | str,
        event: Any,
        kill_at_call: int | str | None = None,
        enforce_timeout: bool = False,
    ) -> Invocation:
        """`kill_at_call` / `enforce_timeout` (the SQS pump under aws_faults): the invocation is killed at its k-th
        AWS or GMI call (or the call after a named one, aws_faults.FaultRule), or at its first call past the
        function's timeout."""
        spec = function if isinstance(function, FunctionSpec) else self.find(function)
        if spec is None:
            raise KeyError(f"no local function {function!r}")
        module_name, attribute = spec.handler.rsplit(".", 1)
        context = FakeLambdaContext(
            function_name=spec.name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=spec.arn,
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + spec.timeout_seconds,
        )
        with self._locks[spec.name]:
            for before in list(self.before_invoke):
                before(spec, event)
            handler = getattr(importlib.import_module(module_name), attribute)
            killing = kill_at_call is not None or enforce_timeout
            try:
                with killable(context.deadline, kill_at_call, enforce_timeout) if killing else nullcontext():
                    # JSON round trip: the handler gets and returns what would cross the Lambda boundary.
                    answer = handler(json.loads(json.dumps(event)), context)
                result = Invocation(json.loads(json.dumps(answer)), False)
            except InvocationKilled:
                timed_out = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {spec.timeout_seconds} s",
                }
                result = Invocation(timed_out, True, killed=True)
            except Exception as error:
                result = Invocation(error_payload(error), True)
            for after in list(self.after_invoke):
                after(spec, event, result)
        with self._record_lock:
            self.invocations.append((spec.name, event, result))
        return result

    def calls(self, function_logical_prefix: str) -> list[tuple[Any, Invocation]]:
        """Invocations of the function whose logical id contains the given text (e.g. "Poll")."""
        names = {f.name for f in self.functions.values() if function_logical_prefix in f.logical_id}
        with self._record_lock:
            return [(event, result) for name, event, result in self.invocations if name in names]

    @contextmanager
    def patched_moto(self) -> Iterator[None]:
        """Route moto's Lambda Invoke of our functions to this router while the context is open."""
        router = self

        def invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            spec = router.find(self.function_arn) or router.find(self.function_name)
            if spec is None:
                return _MOTO_INVOKE(self, event)
            result = router.invoke(spec, event if event is not None else {})
            return json.dumps(result.payload), result.error, ""

        LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]
        try:
            yield
        finally:
            LambdaFunction._invoke_lambda = _MOTO_INVOKE  # type: ignore[method-assign]


def error_payload(error: BaseException) -> dict[str, Any]:
    """The body AWS Lambda returns for an unhandled Python exception."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def _metrics_follow_environment() -> None:
    """The functions share one Powertools Metrics per process (i2v.handlers.observability), which reads its
    namespace and service once, at first import: a test that imported a handler before any stack set the
    functions' environment left it without a namespace, and every later flush raised. A Lambda process starts
    with its environment; here the stack's is applied to the object already built."""
    observability = sys.modules.get("i2v.handlers.observability")
    if observability is not None:
        observability.metrics.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
        observability.metrics.service = os.environ.get("POWERTOOLS_SERVICE_NAME")


def _forget_composed_services() -> None:
    """The composition root (i2v.handlers.wiring) caches every function's service per process, each built from
    the environment of the stack that first asked for it."""
    wiring = sys.modules.get("i2v.handlers.wiring")
    clear = getattr(wiring, "clear", None)
    if callable(clear):
        clear()


def _clear_service(module: ModuleType) -> None:
    """Forget the services the handler module built: those of the composition root and any other handler's own
    cached `service`."""
    _forget_composed_services()
    service = getattr(module, "service", None)
    cache_clear = getattr(service, "cache_clear", None)
    if callable(cache_clear):
        cache_clear()
