"""Powertools Logger, Tracer and Metrics shared by all handlers, with secrets scrubbed from every log line."""

from __future__ import annotations

import logging
import traceback

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

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
# Service and adapter modules log through stdlib loggers under "i2v"; give them the same JSON handler.
copy_config_to_registered_loggers(source_logger=logger, include={"i2v"})
logging.getLogger("i2v").setLevel(logger.log_level)
