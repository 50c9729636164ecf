"""`advisor compare` (being built)."""

from __future__ import annotations

import typer

from advisor.cli.common import friendly_errors


@friendly_errors
def compare() -> None:
    """Not built yet."""
    raise typer.Exit(2)
