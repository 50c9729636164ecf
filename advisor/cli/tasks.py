"""`advisor tasks`: list and inspect task folders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.panel import Panel
from rich.table import Table

from advisor.cli.common import console, friendly_errors

app = typer.Typer(
    help="List and inspect tasks (built-in, or any task folder).", no_args_is_help=True
)


@app.command("list")
@friendly_errors
def list_tasks() -> None:
    """List the built-in tasks."""
    from advisor.tasks import list_builtin_tasks, load_task

    table = Table(title="Built-in tasks", title_justify="left")
    for column in ("name", "version", "domain", "corpus docs", "train", "test"):
        table.add_column(
            column,
            justify="right" if column in ("version", "corpus docs", "train", "test") else "left",
        )
    for name in list_builtin_tasks():
        task = load_task(name)
        table.add_row(
            name,
            str(task.spec.version),
            task.spec.domain,
            str(len(task.corpus)),
            str(len(task.train)),
            str(len(task.test)),
        )
    console.print(table)
    console.print(
        "Any folder in the task format works too: [bold]advisor tasks show path/to/task[/]"
    )


@app.command("show")
@friendly_errors
def show(
    name: str = typer.Argument(..., help="A built-in task name or a path to a task folder."),
    examples: int = typer.Option(3, "--examples", "-n", help="Test items to print per kind."),
    allow_leakage: bool = typer.Option(
        False, help="Load even if a test question also appears in train."
    ),
) -> None:
    """Validate a task and show what it holds: corpus, train and test by kind."""
    from advisor.tasks import load_task

    task = load_task(name, allow_leakage=allow_leakage)
    spec = task.spec
    console.print(
        Panel(
            f"{spec.description}\n\n[bold]domain[/] {spec.domain}   [bold]version[/] {spec.version}   "
            f"[bold]type[/] {spec.type}\n[bold]folder[/] {task.root}",
            title=f"task [bold]{spec.name}[/]",
            title_align="left",
        )
    )
    console.print(Panel(spec.system_prompt, title="system prompt", title_align="left"))
    if spec.style.description:
        console.print(Panel(spec.style.description, title="house style", title_align="left"))

    counts = Table(title="Contents", title_justify="left")
    counts.add_column("part")
    counts.add_column("count", justify="right")
    counts.add_row(f"corpus ({spec.corpus_dir}/)", str(len(task.corpus)))
    if task.corpus_v2 is not None:
        counts.add_row(f"corpus after drift ({spec.drift_corpus_dir}/)", str(len(task.corpus_v2)))
    counts.add_row("train examples", str(len(task.train)))
    by_kind = Counter(item.kind for item in task.test)
    for kind, count in sorted(by_kind.items()):
        counts.add_row(f"test: {kind}", str(count))
    console.print(counts)

    items = Table(title="Test items (first per kind)", title_justify="left", show_lines=True)
    for column in ("id", "kind", "question", "reference", "facts"):
        items.add_column(column, overflow="fold")
    for kind in sorted(by_kind):
        for item in [i for i in task.test if i.kind == kind][:examples]:
            items.add_row(item.id, kind, item.question, item.reference, ", ".join(item.facts))
    console.print(items)
    console.print(
        f"[green]✓[/] {Path(task.root).name}: valid ({len(task.content_hashes())} files hashed)"
    )
