"""The `advisor` command line.

One `Typer()` per command group, joined here. Command modules import only typer
and rich at module level; the work happens in library code imported inside the
command, so `advisor --help` answers at once.
"""

from __future__ import annotations

import inspect

import typer

from advisor import __version__
from advisor.cli import compare, explain, models, quiz, recommend, runs, tasks
from advisor.cli.common import AdvisorGroup

app = typer.Typer(
    name="advisor",
    help=(
        "Should you prompt, retrieve (RAG), fine-tune (SFT), continue pre-training or train "
        "from scratch? [bold]advisor[/] measures every strategy on your task with a real model "
        "and recommends one, with reasons."
    ),
    cls=AdvisorGroup,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"advisor {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Measure and decide how to adapt a language model to your domain."""


app.command("compare")(compare.compare)
app.command("recommend")(recommend.recommend)
app.command("quiz")(quiz.quiz)
app.command("explain")(explain.explain)
app.add_typer(models.app, name="models")
app.add_typer(tasks.app, name="tasks")
app.add_typer(runs.app, name="runs")


def _reflowed(text: str) -> str:
    """A docstring's paragraphs as flowing text (this typer keeps every line break of a
    command's help, so lines wrapped for the source came out ragged at 80 columns);
    a paragraph with an indented line (examples, lists) is kept as written."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p
        if any(line[:1].isspace() or line.startswith(("-", "•")) for line in p.splitlines()[1:])
        else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


def _reflow_help(group: typer.Typer) -> None:
    for command in group.registered_commands:
        text = command.help or inspect.getdoc(command.callback) or ""
        command.help = _reflowed(text) if text else None
    for sub in group.registered_groups:
        _reflow_help(sub.typer_instance)


_reflow_help(app)


def main() -> None:
    app()
