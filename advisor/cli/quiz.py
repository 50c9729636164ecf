"""`advisor quiz`: exam-style scenario questions, for people or for the decision engine."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from advisor.cli.common import console, friendly_errors

DEFAULT_N = 10


@friendly_errors
def quiz(
    n: int = typer.Option(
        None,
        "--n",
        "-n",
        help=f"Bank questions to ask (default {DEFAULT_N}; all of them with --auto).",
    ),
    topic: list[str] = typer.Option(
        None, "--topic", "-t", help="Only this topic (repeat for several)."
    ),
    seed: int = typer.Option(None, "--seed", help="Fix which questions come and in what order."),
    bank: Path = typer.Option(
        None, "--bank", help="A JSONL question bank (default: the built-in one)."
    ),
    generated: int = typer.Option(
        0, "--generated", "-g", help="Mix in N questions generated from the engine."
    ),
    answers: str = typer.Option(
        None, "--answers", help="Answer without prompts: one letter per question."
    ),
    interactive: bool = typer.Option(
        None,
        "--interactive/--no-interactive",
        help="Prompt per question (default: when stdin is a terminal).",
    ),
    auto: bool = typer.Option(
        False, "--auto", help="Let the decision engine answer; report its misses."
    ),
    embed: bool = typer.Option(
        True,
        "--embed/--no-embed",
        help="With --auto: MiniLM where keywords fall short (as recommend).",
    ),
    engine: str = typer.Option(
        "learned",
        "--engine",
        help="With --auto: learned (classifiers trained on practice questions; needs MiniLM) "
        "or keywords (cues and rules).",
    ),
    topics: bool = typer.Option(False, "--topics", help="List the bank's topics and exit."),
    json_out: Path = typer.Option(
        None, "--json", help="Save the results (questions, answers, scores) as JSON."
    ),
) -> None:
    """Practise the fine-tune vs RAG vs prompting decision on exam-style scenarios.

    Asks one question at a time in a terminal; --answers ABDC (or letters on stdin) grades a sheet.

    --auto lets the decision engine take the quiz and shows its misses.

    [dim]advisor quiz --n 5   advisor quiz --topic changing-facts --seed 7   advisor quiz --auto[/]
    """
    from advisor.quiz import terminal
    from advisor.quiz.bank import load_bank
    from advisor.quiz.session import QuizResult, build_quiz, resolve_seed, save_results

    pool = load_bank(bank)
    if topics:
        console.print(terminal.topics_table(pool))
        return
    seed = resolve_seed(seed)
    questions = build_quiz(
        pool,
        n=n if n is not None or auto else DEFAULT_N,
        topics=topic,
        seed=seed,
        generated=generated,
    )
    source = str(bank) if bank else "built-in"
    if auto:
        from advisor.quiz.auto import default_matcher, default_reader, run_auto

        matcher = default_matcher() if embed else None
        reader = default_reader(engine, console) if embed else None
        result = run_auto(questions, seed=seed, bank=source, matcher=matcher, reader=reader)
        terminal.print_auto_report(result, console)
    elif interactive or (interactive is None and answers is None and sys.stdin.isatty()):
        responses, quit_early = terminal.run_interactive(questions, console)
        result = QuizResult(responses, seed, "interactive", source, len(questions), quit_early)
        terminal.print_summary(result, console)
    else:
        result = terminal.grade_answers(questions, answers, seed=seed, bank=source)
        terminal.print_sheet(result, console)
    if json_out:
        console.print(f"Results saved to {save_results(result, json_out)}")
