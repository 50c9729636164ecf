"""`advisor models` (being built)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The models advisor can use.")
