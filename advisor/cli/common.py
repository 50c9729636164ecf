"""What every command shares: the consoles and the error handling.

Nothing heavy is imported here: `advisor --help` must stay instant.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

try:  # recent typer carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click import exceptions as click_errors

from advisor.errors import AdvisorError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable)


def print_error(exc: AdvisorError | str) -> None:
    """`error: ...` on stderr: the located message on one line (never wrapped to
    the terminal), then its hint, if any."""
    err_console.print("[bold red]error:[/] ", end="")
    err_console.print(str(exc), highlight=False, markup=False, soft_wrap=True)


class AdvisorGroup(TyperGroup):
    """The root command group: a command line that cannot be parsed (an unknown
    option, a value of the wrong type) is reported as one `error:` line after
    the usage, like every other error, with click's exit code 2. (typer's own
    box wraps a long message over several lines.)"""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as exc:
            sys.exit(exc.exit_code)  # the help is printed already
        except click_errors.UsageError as exc:
            if exc.ctx is not None:
                err_console.print(exc.ctx.get_usage(), highlight=False, markup=False)
                err_console.print(
                    f"Try '{exc.ctx.command_path} {exc.ctx.help_option_names[0]}' for help.",
                    highlight=False,
                    markup=False,
                )
            print_error(exc.format_message())
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            print_error(exc.format_message())
            sys.exit(exc.exit_code)
        except typer.Abort:
            err_console.print("Aborted.", highlight=False)
            sys.exit(1)
        # a typer.Exit(code) comes back as its code; a finished command as None
        sys.exit(code if isinstance(code, int) else 0)


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
