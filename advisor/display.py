"""Rich tables and progress for benchmark runs (terminal output only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

KIND_COLUMNS = (
    ("seen", "seen"),
    ("unseen", "unseen"),
    ("style", "style"),
    ("out_of_scope", "out of\nscope"),
    ("drift", "drift"),
)


def make_progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=False,
    )


def phase_starter(
    progress: Progress,
) -> Callable[[str, int | None], Callable[[int, dict[str, Any]], None]]:
    """`start_phase(description, total)` → `advance(n, fields)` over one progress bar.

    When output is not a terminal (CI logs, a pipe), live bars are not drawn, so
    each phase also prints a line when it starts and when it ends.
    """
    console = progress.console
    plain = not console.is_terminal

    def start(description: str, total: int | None):
        task_id = progress.add_task(description, total=total, info="")
        started = time.perf_counter()
        done = 0
        if plain:
            console.print(f"[dim]started {description}[/]", highlight=False)

        def advance(n: int, fields: dict[str, Any]) -> None:
            nonlocal done
            done += n
            info = "  ".join(f"{k} {_short(v)}" for k, v in fields.items())
            progress.update(task_id, advance=n, info=info)
            if plain and total is not None and done >= total:
                took = time.perf_counter() - started
                console.print(
                    f"[dim]finished {description} in {took:.1f} s {info}[/]", highlight=False
                )

        return advance

    return start


def joined(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def fmt(stat: dict[str, float] | None, digits: int = 2) -> str:
    """`0.71` or `0.71±0.03` (std over seeds), `-` when not measured."""
    if not stat:
        return "-"
    text = f"{stat['mean']:.{digits}f}"
    if stat.get("n", 1) > 1:
        text += f"±{stat['std']:.{digits}f}"
    return text


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def results_table(scores: dict[str, Any]) -> Table:
    """The primary score overall and per kind of test item (or, on a
    classification task, accuracy and macro-F1 with how labels were picked)."""
    if scores.get("task_type") == "classification":
        return classification_table(scores)
    table = Table(
        title=f"{scores['task']}: score by strategy and item kind (higher is better)",
        title_justify="left",
    )
    table.add_column("strategy", style="bold", no_wrap=True, min_width=7)
    table.add_column("score", justify="right", style="bold")
    for _, header in KIND_COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("stale\nanswers ↓", justify="right")
    for name, entry in scores["strategies"].items():
        overall, kinds = entry["overall"], entry["by_kind"]
        table.add_row(
            name,
            fmt(overall.get("score")),
            *[fmt(kinds.get(kind, {}).get("score")) for kind, _ in KIND_COLUMNS],
            fmt(kinds.get("drift", {}).get("stale")),
        )
    return table


SCORING_NAMES = {
    "likelihood": "likelihood",
    "constrained": "constrained",
    "generate": "free text",
    "classifier": "classifier",
}


def classification_table(scores: dict[str, Any]) -> Table:
    """Accuracy, macro-F1 and unmapped answers per strategy, and how each chose."""
    table = Table(
        title=f"{scores['task']}: classification by strategy (higher is better)",
        title_justify="left",
    )
    table.add_column("strategy", style="bold", no_wrap=True, min_width=7)
    table.add_column("label by", no_wrap=True)
    table.add_column("accuracy", justify="right", style="bold")
    table.add_column("macro-F1", justify="right")
    table.add_column("no label ↓", justify="right")
    table.add_column("train s", justify="right")
    table.add_column("answer s", justify="right")
    for name, entry in scores["strategies"].items():
        overall, cost = entry["overall"], entry["cost"]
        table.add_row(
            name,
            " + ".join(SCORING_NAMES.get(p, p) for p in entry.get("scoring", "").split("+")),
            fmt(overall.get("score")),
            fmt(overall.get("macro_f1")),
            fmt(overall.get("unmapped")),
            _number(cost.get("train_time_s"), 0),
            _number(cost.get("answer_time_s"), 0),
        )
    table.caption = (
        "accuracy: share of test items answered with the reference label; macro-F1 over the "
        "labels asked; no label: answers that name no allowed label (counted wrong). "
        "label by: constrained = decoding limited to the labels, likelihood = labels ranked "
        "by log-likelihood, free text = the answer mapped to a label, classifier = a "
        "classifier's prediction"
    )
    table.caption_justify = "left"
    return table


def confusion_table(scores: dict[str, Any], limit: int = 5) -> Table | None:
    """The labels the best-scoring strategy mixes up most, with its weakest labels."""
    ranked = [
        (entry["overall"].get("score", {}).get("mean", 0.0), name, entry)
        for name, entry in scores["strategies"].items()
        if entry.get("classification")
    ]
    if not ranked:
        return None
    _, name, entry = max(ranked, key=lambda r: r[0])
    summary = entry["classification"]
    if not summary["confused"]:
        return None
    table = Table(title=f"{name}: most-confused labels", title_justify="left")
    table.add_column("reference label")
    table.add_column("answered as")
    table.add_column("items", justify="right")
    table.add_column("recall of the reference", justify="right")
    for pair in summary["confused"][:limit]:
        recall = summary["per_label"].get(pair["reference"], {}).get("recall")
        table.add_row(
            pair["reference"],
            pair["predicted"],
            str(pair["count"]),
            "-" if recall is None else f"{recall:.2f}",
        )
    return table


def not_scored_table(scores: dict[str, Any]) -> Table | None:
    """Strategies that were skipped (cannot run on this task) or failed, and why."""
    missing = scores.get("not_scored") or {}
    if not missing:
        return None
    table = Table(title="not scored", title_justify="left")
    table.add_column("strategy", style="bold", no_wrap=True)
    table.add_column("status")
    table.add_column("why", overflow="fold")
    for name, entry in missing.items():
        style = "yellow" if entry["status"] == "skipped" else "red"
        table.add_row(name, f"[{style}]{entry['status']}[/]", entry["reason"])
    return table


def cost_table(scores: dict[str, Any]) -> Table:
    """What each strategy cost to prepare and to run: per-query latency (one question
    alone, p50/p95) beside throughput at the run's batch size, which the price comes from."""
    from benchmarks.latency import answers_per_second

    table = Table(title="cost (lower is better)", title_justify="left")
    table.add_column("strategy", style="bold", no_wrap=True, min_width=7)
    for header in (
        "train\ns",
        "peak\nMB",
        "saved\nMB",
        "p50\ns",
        "p95\ns",
        "ans/s\n↑",
        "tok/s\n↑",
        "prompt\ntok",
        "ans.\ntok",
        "$ per\n1k q",
        "recall\n@k ↑",
    ):
        table.add_column(header, justify="right")
    for name, entry in scores["strategies"].items():
        overall, cost = entry["overall"], entry["cost"]
        table.add_row(
            name,
            _number(cost.get("train_time_s"), 0),
            _number(cost.get("peak_memory_mb"), 0),
            _number(cost.get("saved_mb"), 1),
            _number(cost.get("latency_p50_s"), 2),
            _number(cost.get("latency_p95_s"), 2),
            _number(answers_per_second(cost, entry.get("n_items", 0)), 1),
            _number(cost.get("answer_tokens_per_s"), 0),
            _number(cost.get("prompt_tokens"), 0),
            _number(cost.get("output_tokens"), 0),
            f"{cost.get('cost_per_1k_queries_usd', 0):.4f}",
            fmt(overall.get("retrieval_recall")),
        )
    table.caption = "\n".join(_cost_caption(scores))
    table.caption_justify = "left"
    return table


def _cost_caption(scores: dict[str, Any]) -> list[str]:
    """What the cost columns are, in words (a batch's wall time is no latency)."""
    costs = [entry["cost"] for entry in scores["strategies"].values()]
    sizes = sorted({int(c["batch_size"]) for c in costs if "batch_size" in c})
    timed = sorted({int(c["latency_n"]) for c in costs if "latency_n" in c})
    if timed:
        lines = [
            f"p50/p95: seconds for one question answered alone "
            f"({'/'.join(map(str, timed))} seeded test questions per strategy, every seed)"
        ]
    else:
        lines = [
            "p50/p95: not measured in this run (one question alone; generation.latency_sample)"
        ]
    batch = f"batch size {'/'.join(map(str, sizes))}" if sizes else "the run's batch size"
    lines.append(
        f"ans/s, tok/s: answers and answer tokens per second at {batch}; $ per 1k q comes from them"
        + (
            f" at ${scores['hourly_usd']:.2f} an hour"
            if isinstance(scores.get("hourly_usd"), int | float)
            else ""
        )
    )
    if any("saved_mb" in c for c in costs):
        lines.append(
            "saved: what training leaves on disk per model version "
            "(a LoRA adapter, or for full_ft every weight)"
        )
    return lines


def details_table(scores: dict[str, Any]) -> Table:
    """Every answer-quality metric, overall."""
    metrics = (
        ("fact_recall", "fact\nrecall"),
        ("token_f1", "token\nF1"),
        ("embedding_similarity", "embed.\nsim."),
        ("style", "style"),
        ("correct_decline", "right\ndecline"),
        ("false_decline", "wrong\ndecline ↓"),
        ("hallucinated_numbers", "made-up\nfigures ↓"),
    )
    table = Table(title="answer quality, all items", title_justify="left")
    table.add_column("strategy", style="bold", no_wrap=True, min_width=7)
    for _, header in metrics:
        table.add_column(header, justify="right")
    for name, entry in scores["strategies"].items():
        overall = entry["overall"]
        table.add_row(
            name, *[fmt(overall.get(m), 1 if m == "output_tokens" else 2) for m, _ in metrics]
        )
    return table


def learning_curve_tables(scores: dict[str, Any]) -> list[Table]:
    """One table per strategy with a learning curve (`sft`, `full_ft`, each variant)."""
    curves = scores.get("learning_curve") or {}
    return [t for name in curves if (t := learning_curve_table(scores, name)) is not None]


def learning_curve_table(scores: dict[str, Any], name: str = "sft") -> Table | None:
    """A strategy's score per kind against the number of labeled examples, with
    RAG for reference."""
    curve = (scores.get("learning_curve") or {}).get(name)
    if not curve:
        return None
    table = Table(
        title=f"{name} learning curve: score per kind by labeled examples", title_justify="left"
    )
    table.add_column("train examples", style="bold")
    table.add_column("score", justify="right")
    for _, header in KIND_COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("train\ns", justify="right")
    for size, entry in curve_points(curve):
        label = f"{entry.get('train_examples') or size}" + (" (all)" if size == "all" else "")
        table.add_row(
            label,
            fmt(entry["overall"].get("score")),
            *[fmt(entry["by_kind"].get(kind, {}).get("score")) for kind, _ in KIND_COLUMNS],
            _number(entry["cost"].get("train_time_s"), 0),
        )
    rag = scores["strategies"].get("rag")
    if rag is not None:
        table.add_row(
            "[dim]rag (no training)[/]",
            fmt(rag["overall"].get("score")),
            *[fmt(rag["by_kind"].get(kind, {}).get("score")) for kind, _ in KIND_COLUMNS],
            "0",
            style="dim",
        )
        table.caption = curve_caption(scores, name)
        table.caption_justify = "left"
    return table


def curve_points(curve: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The curve's (size, entry) pairs, smallest first (`all` last)."""

    def size_key(item: tuple[str, Any]) -> float:
        return float("inf") if item[0] == "all" else float(item[0])

    return sorted(curve.items(), key=size_key)


def curve_caption(scores: dict[str, Any], name: str = "sft") -> str:
    """Per kind, where the curve comes within the noise band of RAG, or that it does not."""
    reached = examples_to_match(scores, name)
    return f"{name} within the noise band of RAG: " + "; ".join(
        f"{header.replace(chr(10), ' ')} "
        + (f"from {reached[kind]} examples" if reached.get(kind) else "not within the curve")
        for kind, header in KIND_COLUMNS
        if kind in reached
    )


def examples_to_match(scores: dict[str, Any], name: str = "sft") -> dict[str, int | None]:
    """Per kind RAG was scored on: the fewest labeled examples at which the
    strategy's score comes within the noise band of RAG's — at or above RAG's
    mean less the larger of the two stds over seeds (RAG's mean itself with one
    seed) — or None when no point of the curve does."""
    curve = (scores.get("learning_curve") or {}).get(name) or {}
    rag = scores["strategies"].get("rag")
    if not curve or rag is None:
        return {}
    points = sorted(
        (int(entry.get("train_examples") or 0), entry)
        for entry in curve.values()
        if entry.get("train_examples")
    )
    reached: dict[str, int | None] = {}
    for kind, _ in KIND_COLUMNS:
        target = rag["by_kind"].get(kind, {}).get("score")
        if _mean(target) is None:
            continue
        reached[kind] = next(
            (
                size
                for size, entry in points
                if _within_band(entry["by_kind"].get(kind, {}).get("score"), target)
            ),
            None,
        )
    return reached


def _within_band(stat: dict[str, float] | None, target: dict[str, float]) -> bool:
    if _mean(stat) is None:
        return False
    band = max(stat.get("std") or 0.0, target.get("std") or 0.0)
    return stat["mean"] >= target["mean"] - band - 1e-9


def _mean(stat: dict[str, float] | None) -> float | None:
    return None if not stat else stat.get("mean")


def score_tables(scores: dict[str, Any]) -> list[Table]:
    """Every table of a run's results, in the order `advisor compare` prints
    them: `advisor runs show` re-renders a run from its scores.json with these."""
    classification = scores.get("task_type") == "classification"
    tables = [results_table(scores), not_scored_table(scores), cost_table(scores)]
    tables += [confusion_table(scores)] if classification else [details_table(scores)]
    tables += learning_curve_tables(scores)
    return [table for table in tables if table is not None]


def all_tasks_table(scores: list[dict[str, Any]], recommended: dict[str, str]) -> Table:
    """Task × strategy: each task's primary score, and the strategy recommended for it."""
    names = list(dict.fromkeys(n for s in scores for n in s["strategies"]))
    table = Table(title="score by task and strategy (higher is better)", title_justify="left")
    table.add_column("task", style="bold", no_wrap=True)
    table.add_column("type")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("recommended", style="bold green")
    for run in scores:
        cells = []
        for name in names:
            entry = run["strategies"].get(name)
            status = run.get("not_scored", {}).get(name, {}).get("status")
            cells.append(fmt(entry["overall"].get("score")) if entry else (status or "·"))
        table.add_row(
            run["task"], run.get("task_type", "generation"), *cells, recommended[run["task"]]
        )
    table.caption = "score: fact recall (generation tasks) or accuracy (classification); · not run"
    table.caption_justify = "left"
    return table
