"""What every command shares: the consoles and the error handling.

Nothing heavy is imported here: `advisor --help` must stay instant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from advisor.errors import AdvisorError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable)


def print_error(exc: AdvisorError) -> None:
    err_console.print("[bold red]error:[/] ", end="")
    err_console.print(str(exc), highlight=False, markup=False, soft_wrap=True)


def friendly_errors(fn: F | None = None, *, interrupted: str = "interrupted") -> F:
    """Turn an `AdvisorError` into a message on stderr and exit code 1, and
    Ctrl-C into `interrupted` and exit code 130 (the shell's convention for
    SIGINT), with no traceback. Use bare or as `@friendly_errors(interrupted=...)`."""
    if fn is None:
        return functools.partial(friendly_errors, interrupted=interrupted)  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AdvisorError as exc:
            print_error(exc)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print(f"[yellow]{interrupted}[/]", highlight=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
