"""The `i2v` command line."""

from i2v_local.cli.app import app, main

__all__ = ["app", "main"]
