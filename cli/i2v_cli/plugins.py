"""Commands other packages add to `i2v`: the local harness (local/) adds `demo`, `local up` and `simulate`.

A plugin is an entry point of the group `i2v_cli.plugins` naming a function `register(app: typer.Typer)`. The CLI
names no plugin: the harness depends on the CLI, never the reverse, and a CLI installed without it has none.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from i2v_cli.output import errors

GROUP = "i2v_cli.plugins"


def load_plugins(app: typer.Typer) -> None:
    """Let every installed plugin add its commands; one that cannot be imported is named and skipped, so the
    deployment commands still work."""
    for entry in entry_points(group=GROUP):
        try:
            register = entry.load()
        except ImportError as error:
            errors.print(f"warning: i2v plugin {entry.name!r} ({entry.value}) not loaded: {error}", markup=False)
            continue
        register(app)
