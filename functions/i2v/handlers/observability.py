"""Powertools Logger, Tracer and Metrics shared by all handlers, with secrets scrubbed from every log line."""

from __future__ import annotations

import logging
import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from i2v.domain.redaction import redact

Handler = TypeVar("Handler", bound=Callable[..., Any])
# The libraries our functions make calls with; Powertools would otherwise patch every one the SDK knows.
TRACED_LIBRARIES = ("botocore", "requests")


class HandlerTracer(Protocol):
    def capture_lambda_handler(self, handler: Handler) -> Handler: ...


class UntracedHandlers:
    """Stands in for Tracer when the X-Ray SDK is off (config `xray_sdk_tracing`): a handler is left as it is.
    Lambda's active tracing still records every invocation; Tracer would import the SDK even when disabled."""

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        return handler


def sdk_tracing() -> bool:
    return not resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false"))


logger = Logger()
tracer: HandlerTracer = (
    cast(HandlerTracer, Tracer(patch_modules=TRACED_LIBRARIES)) if sdk_tracing() else UntracedHandlers()
)
metrics = Metrics()


class RedactingFilter(logging.Filter):
    """Last line of defence: messages and tracebacks pass through redact() before they are written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True


logger.registered_handler.addFilter(RedactingFilter())
if logger.service != "i2v":  # a renamed service: still route the "i2v.*" module loggers to this handler
    logging.getLogger("i2v").addHandler(logger.registered_handler)
# Service and adapter modules log through stdlib loggers named "i2v.*": children of this Logger's "i2v"
# logger, so their records reach the same JSON handler (and the filter) by propagation.
# Ignored events (e.g. s3:TestEvent) legitimately publish no metric; Powertools would warn on every one.
warnings.filterwarnings("ignore", message="No application metrics to publish")
