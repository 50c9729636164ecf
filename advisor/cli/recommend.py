"""`advisor recommend` (being built)."""

from __future__ import annotations

import typer

from advisor.cli.common import friendly_errors


@friendly_errors
def recommend() -> None:
    """Not built yet."""
    raise typer.Exit(2)
