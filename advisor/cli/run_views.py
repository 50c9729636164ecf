"""How `advisor runs` prints runs: one line per run, a run's summary, a diff.

Rich renderables only; the data comes from `benchmarks.runs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from benchmarks.runs import Run, RunSummary

STATUS_STYLES = {
    "complete": "green",
    "failed": "red",
    "unfinished": "yellow",
    "running": "cyan",
    "damaged": "red",
}
DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


def _date(created: str | None) -> str:
    """`2026-11-25T16:30:00+00:00` → `2026-11-25 16:30` (UTC, as recorded)."""
    return created[:16].replace("T", " ") if created else "-"


def _score(best: str | None, score: float | None) -> str:
    return f"{best} {score:.2f}" if best is not None and score is not None else "-"


def _device(device: str | None, dtype: str | None) -> str:
    if device is None:
        return "-"
    return f"{device}/{DTYPES.get(dtype or '', dtype)}"


def runs_table(runs: list[RunSummary], total_width: int = 80) -> Table:
    """`advisor runs list`: one borderless line per run, like `git log --oneline`. The id
    (which holds the date, time and task) and the short columns are never cut; the list
    of strategies takes what is left of the terminal and ends in … (`show ID` has it)."""
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold dim")
    rows = [
        (
            run.id,
            run.status,
            _score(run.best, run.score),
            _device(run.device, run.dtype),
            ",".join(map(str, run.seeds)) or "-",
            ",".join(run.strategies) or "-",
        )
        for run in runs
    ]
    headers = ("id", "status", "best", "device", "seeds", "strategies")
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    left = total_width - sum(widths[:-1]) - len(headers[:-1])
    if left < len("strategies"):  # a narrow terminal: no room for the list at all
        headers, widths, rows = headers[:-1], widths[:-1], [r[:-1] for r in rows]
    else:
        widths[-1] = min(widths[-1], left)
    for i, header in enumerate(headers):
        style = "bold" if header == "id" else None
        table.add_column(header, width=widths[i], no_wrap=True, overflow="ellipsis", style=style)
    for row in rows:
        status_style = STATUS_STYLES.get(row[1], "")
        table.add_row(row[0], f"[{status_style}]{row[1]}[/]", *row[2:])
    return table


def _pairs_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE, show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


CONFIG_SUMMARY = (
    "task",
    "profile",
    "strategies",
    "seeds",
    "limit",
    "train_sizes",
    "model.generator",
    "model.embedder",
    "model.device",
    "model.dtype",
    "generation.batch_size",
    "generation.max_new_tokens",
)


def manifest_table(run: Run, status: str) -> Table:
    """Who made the run, where, with what: the manifest in a dozen lines."""
    m = run.manifest
    task, model, git = m.get("task") or {}, m.get("model") or {}, m.get("git") or {}
    device = m.get("device") or {}
    identity = m.get("identity") or {}
    versions = identity.get("versions") or m.get("versions") or {}
    rows = [
        ("status", status),
        ("created", f"{_date(m.get('created'))} · finished {_date(m.get('finished'))}"),
        ("command", m.get("command") or "-"),
        ("hash", str(m.get("config_hash"))),
        (
            "task",
            f"{task.get('name')} v{task.get('version')} · {str(task.get('content_hash'))[:12]}",
        ),
        ("model", f"{model.get('generator')} · {str(model.get('sha256'))[:12]}"),
        ("device", f"{device.get('device')} {device.get('dtype')} · {device.get('name')}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)),
        ("git", f"{str(git.get('commit'))[:12]}" + (" (dirty)" if git.get("dirty") else "")),
    ]
    if m.get("failed_units"):
        rows.append(("failed", ", ".join(m["failed_units"])))
    return _pairs_table(f"run {run.id}", rows)


def config_table(run: Run) -> Table:
    """The settings a reader asks about first; config.yaml holds all of them."""
    from benchmarks.manifest import flatten

    flat = flatten(run.config or {})
    rows = [(key, _value(flat[key])) for key in CONFIG_SUMMARY if key in flat]
    # a row, not a caption: a caption wraps at the table's width, mid-path
    rows.append(("all settings", f"{len(flat)} in {run.path / 'config.yaml'}"))
    return _pairs_table("config (the main settings)", rows)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "[]"
    return str(value)


def print_diff(diff: dict[str, Any], console: Console, max_answers: int) -> None:
    """`advisor runs diff A B`: inputs that differ, likely causes, scores, answers."""
    console.print(f"[bold]A[/] {diff['a']}\n[bold]B[/] {diff['b']}", highlight=False)
    inputs = _inputs_table(diff)
    if inputs.row_count:
        console.print(inputs)
    else:
        console.print("same inputs: config, versions, machine, task, model and code")
    for cause in diff["likely_causes"]:
        console.print(f"[yellow]likely cause:[/] {cause}", highlight=False)
    console.print(_scores_table(diff["scores"]))
    _print_answer_changes(diff, console, max_answers)


def _inputs_table(diff: dict[str, Any]) -> Table:
    table = Table(title="inputs that differ", title_justify="left", box=box.SIMPLE)
    for header in ("", "A", "B"):
        table.add_column(header, overflow="fold")
    labels = {
        "machine": "{}",
        "versions": "{}",
        "hashes": "{}",
        "git": "git {}",
        "config": "config {}",
    }
    for section, label in labels.items():
        for key, (a, b) in diff[section].items():
            table.add_row(label.format(key), _value(a), _value(b))
    return table


def _scores_table(scores: dict[str, list[Any]]) -> Table:
    table = Table(title="score (higher is better)", title_justify="left", box=box.SIMPLE)
    table.add_column("strategy · kind", no_wrap=True)
    for header in ("A", "B", "B − A"):
        table.add_column(header, justify="right")
    for key, (a, b) in scores.items():
        delta = "-" if a is None or b is None else f"{b - a:+.2f}"
        style = "bold" if "·" not in key else ""
        table.add_row(key, _num(a), _num(b), delta, style=style)
    return table


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_answer_changes(diff: dict[str, Any], console: Console, limit: int) -> None:
    changed = diff["answers_changed"]
    console.print(f"{len(changed)} of {diff['answers_compared']} answers differ", highlight=False)
    if not changed:
        return
    table = Table(box=box.SIMPLE, show_lines=False)
    for header in ("unit", "item", "A", "B"):
        table.add_column(header, overflow="fold")
    for change in changed[:limit]:
        table.add_row(change["unit"], change["id"], change["a"], change["b"])
    console.print(table)
    if len(changed) > limit:
        console.print(f"[dim]… and {len(changed) - limit} more (--max-answers, or --json)[/]")


def print_verification(result: dict[str, Any], console: Console) -> None:
    """`advisor runs verify`: per strategy, identical answers and matching scores."""
    table = Table(
        title=f"{result['original']} re-run as {result['again']}",
        title_justify="left",
        box=box.SIMPLE,
    )
    for header in ("strategy", "items", "identical answers", "differ (first ids)"):
        table.add_column(header, justify="left" if header[0] in "sd" else "right")
    for unit in result["units"]:
        mark = "[green]✓[/]" if unit["identical"] == unit["items"] else "[red]✗[/]"
        table.add_row(
            f"{mark} {unit['unit']}",
            str(unit["items"]),
            f"{unit['identical']}/{unit['answered_again']}",
            ", ".join(unit["differ"][:5]) or "-",
        )
    console.print(table)
    changed = {k: v for k, v in result["scores"].items() if v[0] != v[1]}
    if changed:
        console.print(_scores_table(changed))
    if result["identical"]:
        console.print("[green]identical[/]: every answer and every score is the same")
    else:
        console.print(
            "[red]differs[/]: " + ("; ".join(result["likely_causes"]) or "no input differs")
        )
