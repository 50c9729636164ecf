"""How `advisor tasks validate` prints: every problem, then the statistics."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from advisor.cli.common import console, err_console
from advisor.errors import AdvisorError

SHOWN_PAIRS = 10


def print_problems(problems: list[AdvisorError], folder: str) -> None:
    for problem in problems:
        err_console.print("[bold red]error:[/] ", end="")
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    err_console.print(f"[red]✗[/] {folder}: {len(problems)} problem(s)")


def _models(model: str | None, embedder: str | None):
    """(tokenizer, context length, embedder), each None when not asked for."""
    from advisor.models import ModelProvider, load_embedder
    from advisor.runtime import pick_device

    tokenizer = context = loaded = None
    if model is not None:
        provider = ModelProvider(model, embedder or "minilm", pick_device("cpu"))
        tokenizer, context = provider.tokenizer(), provider.context_length()
    if embedder is not None:
        loaded = load_embedder(embedder)
    return tokenizer, context, loaded


def print_statistics(task: Any, model: str | None, embedder: str | None, profile: str) -> None:
    from advisor.config import resolve_config
    from advisor.task_report import task_statistics

    tokenizer, context, loaded = _models(model, embedder)
    config = resolve_config(profile=profile, settings={"task": str(task.root)})
    stats = task_statistics(
        task, tokenizer=tokenizer, context=context, config=config, embedder=loaded
    )
    counts = Table(title=f"{task.name} ({task.spec.type})", title_justify="left")
    counts.add_column("part")
    counts.add_column("count", justify="right")
    for part, n in stats.counts.items():
        counts.add_row(part, f"{n:,}")
    console.print(counts)
    if stats.labels:
        console.print(_label_table(stats.labels))
    if stats.lengths:
        console.print(_length_table(stats, model or ""))
    for title, pairs in (
        ("repeated questions", stats.duplicates),
        ("near-duplicate leakage", stats.leaks),
    ):
        if pairs:
            console.print(_pair_table(title, pairs))
    for warning in stats.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(f"[green]✓[/] {task.root}: valid")


def _label_table(labels: list[tuple[str, int, int]]) -> Table:
    table = Table(
        title=f"labels ({len(labels)}): fewest train examples first", title_justify="left"
    )
    for column in ("label", "train", "test"):
        table.add_column(column, justify="left" if column == "label" else "right")
    ordered = sorted(labels, key=lambda row: (row[1], row[0]))
    shown = ordered if len(ordered) <= 12 else ordered[:6] + ordered[-6:]
    for n, (label, train, test) in enumerate(shown):
        if len(ordered) > 12 and n == 6:
            table.add_row("…", "", "")
        table.add_row(label, str(train), str(test))
    return table


def _length_table(stats: Any, model: str) -> Table:
    context = f"{stats.context:,}" if stats.context else "?"
    table = Table(title=f"token lengths ({model}; context {context} tokens)", title_justify="left")
    for column in ("what", "p50", "p95", "max"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for what, values in stats.lengths.items():
        table.add_row(what, *(f"{values[k]:,}" for k in ("p50", "p95", "max")))
    for what, value in stats.limits.items():
        table.add_row(f"[dim]limit: {what}[/]", "", "", f"[dim]{value:,}[/]")
    return table


def _pair_table(title: str, pairs: list[Any]) -> Table:
    table = Table(title=f"{title} ({len(pairs)})", title_justify="left")
    for column in ("line", "repeats", "similarity", "by", "note"):
        table.add_column(column)
    for pair in pairs[:SHOWN_PAIRS]:
        table.add_row(pair.first, pair.second, f"{pair.similarity:.2f}", pair.method, pair.note)
    if len(pairs) > SHOWN_PAIRS:
        table.caption = f"… and {len(pairs) - SHOWN_PAIRS} more"
        table.caption_justify = "left"
    return table
