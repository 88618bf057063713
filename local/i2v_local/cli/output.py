"""Printing for humans (rich) or for scripts (--json), and the one-line errors users see."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(stderr=False, highlight=False)
errors = Console(stderr=True, highlight=False)


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> None:
    errors.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise SystemExit(code)
