"""Powertools Logger, Tracer and Metrics shared by all handlers, with secrets scrubbed from every log line."""

from __future__ import annotations

import logging
import traceback
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

from i2v.domain.redaction import redact

logger = Logger()
tracer = Tracer()
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
