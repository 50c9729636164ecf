"""`advisor recommend`: rank the adaptation approaches for a scenario, with reasons.

Only typer and rich at module level; the engine is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from advisor.cli.common import console, friendly_errors


@friendly_errors
def recommend(
    inputs: list[str] = typer.Argument(
        None,
        metavar="[SCENARIO.yaml] [FIELD=VALUE]...",
        help="A scenario file and/or field=value settings.",
    ),
    text: str = typer.Option(
        None, "--text", "-t", help="Describe the situation in words (or paste a question)."
    ),
    options: list[str] = typer.Option(
        None,
        "--option",
        "-O",
        help='An answer option to choose from, e.g. "A=Fine-tune the model" (repeat).',
    ),
    from_run: Path = typer.Option(
        None, "--from-run", help="A benchmark run folder (runs/<id>) as evidence."
    ),
    prices: Path = typer.Option(
        None, "--prices", help="Hourly price table (YAML) for the break-even (with --from-run)."
    ),
    queries_per_month: int = typer.Option(
        None,
        "--queries-per-month",
        help="Your query volume: above or below each trained strategy's break-even.",
    ),
    fmt: str = typer.Option(
        None, "--format", "-f", help="terminal | md | html (default: from -o, else terminal)."
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    embed: bool = typer.Option(
        True,
        "--embed/--no-embed",
        help="With --text: MiniLM where keywords fall short, and the learned reader's reading "
        "of the text in the ranking (the text-reads-like rule).",
    ),
) -> None:
    """Rank the approaches for a scenario, with the rules that fired and what would change it.

    Prompting, few-shot, RAG, fine-tuning, continued pre-training, training from scratch and
    the rest, from flags, a YAML/JSON file, free text (--text) or a benchmark run (--from-run).

    [dim]advisor recommend labeled_examples=100 gaps=tone label_quality=high[/]
    [dim]advisor recommend --text "Our policies change weekly and answers must cite them."[/]
    [dim]advisor recommend --from-run runs/<id> -o report.html[/]
    [dim]advisor recommend --from-run runs/<id> --prices prices.yaml --queries-per-month 50000[/]

    Fields: labeled_examples, label_quality, unlabeled_corpus, knowledge, knowledge_changes, gaps,
    base_model_fit, base_model_exists, compute, budget, timeline, latency, token_budget, citations,
    on_premises, training_allowed, goal, max_latency_s, max_prompt_tokens (docs/recommend.md).
    """
    from advisor.decision.request import Request, build_recommendation, output_format, write_report

    request = Request(
        tuple(inputs or ()),
        text,
        tuple(options or ()),
        from_run,
        embed,
        prices=prices,
        queries_per_month=queries_per_month,
    )
    if text and embed:
        with console.status("reading the text (the first time: ~1 min to fit the learned reader)"):
            rec, choice = build_recommendation(request)
    else:
        rec, choice = build_recommendation(request)
    written = write_report(rec, choice, output_format(fmt, output), output, console)
    if written is not None:
        console.print(f"Wrote {written}", highlight=False)
