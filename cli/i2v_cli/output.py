"""Printing for humans (rich) or for scripts (--json), and the one-line errors users see."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperOption

_option_type = TyperOption.display_type_rich


def _flags_take_no_value(option: TyperOption, ctx: Any) -> str | None:
    """typer shows `<bool>` as the value of every on/off flag (`--wait <bool>`, even `--help <bool>`), which reads
    as if the flag took a value; flags take none, so their type column stays empty."""
    return None if option.is_flag and option.metavar is None else _option_type(option, ctx)


TyperOption.display_type_rich = _flags_take_no_value  # type: ignore[method-assign,assignment]

# soft_wrap: a line is never broken by us (S3 URIs and job ids stay whole when copied or piped); the terminal
# wraps what is too long. Tables still fit the width.
console = Console(stderr=False, highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


Json = Annotated[bool, typer.Option("--json", help="machine-readable output")]


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> None:
    errors.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise SystemExit(code)
