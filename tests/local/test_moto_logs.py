"""The local stack keeps moto's Step Functions interpreter from printing an ERROR for a JSONPath that is merely
absent (a Choice's IsPresent on `$.watch_error`: `make demo` printed one line of it per job), and keeps every
other error it logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

from i2v_local.stack.compat import MOTO_SFN_LOGGER, quiet_moto_logs


class _Choice:
    def __repr__(self) -> str:
        return "IsPresent($.watch_error)"


def _logged_by_moto(caplog: pytest.LogCaptureFixture, error: Exception) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=MOTO_SFN_LOGGER):
        EvalComponent._log_exception(_Choice(), error)  # type: ignore[arg-type]  # moto's own formatting
    return [record.getMessage() for record in caplog.records if record.name == MOTO_SFN_LOGGER]


def test_an_absent_path_is_not_logged_and_other_errors_are(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger(MOTO_SFN_LOGGER), "filters", [])  # as before any local stack started
    absent: Any = NoSuchJsonPathError(json_path="$.watch_error", data={})
    assert _logged_by_moto(caplog, absent), "moto no longer logs an absent path: the filter can go"
    quiet_moto_logs()
    quiet_moto_logs()  # idempotent: one filter however many stacks start
    assert len(logging.getLogger(MOTO_SFN_LOGGER).filters) == 1
    assert _logged_by_moto(caplog, absent) == []
    assert _logged_by_moto(caplog, ValueError("a real fault")) == [
        "Exception=ValueError, Details=['a real fault'] at 'IsPresent($.watch_error)'"
    ]
