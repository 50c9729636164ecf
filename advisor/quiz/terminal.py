"""The quiz in a terminal: question panels, the answer prompt, feedback and summaries.

Reading input goes through an `ask` callable (by default `console.input`), so the
loop runs the same under a real terminal, typer's `CliRunner` or a pipe.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from advisor.errors import AdvisorError
from advisor.quiz.bank import Question, topic_counts
from advisor.quiz.session import (
    HELP_TEXT,
    QuizResult,
    Response,
    grade_sheet,
    interpret_reply,
    parse_answer_sheet,
)


def question_panel(question: Question, position: int, total: int) -> Panel:
    """A question as a panel: scenario, then the lettered options (wrapped lines stay indented)."""
    options = Table.grid(padding=(0, 2))
    options.add_column(style="bold", no_wrap=True)
    options.add_column()
    for letter, option in question.options.items():
        options.add_row(f" {letter}", option)
    subtitle = " · ".join(p for p in (question.topic, question.difficulty, question.id) if p)
    return Panel(
        Group(Text(question.scenario + "\n"), options),
        title=f"Question {position}/{total}",
        title_align="left",
        subtitle=subtitle,
    )


def feedback_panel(question: Question, given: str | None) -> Panel:
    """Right or wrong, the key, and why."""
    if given == question.answer:
        head = Text("✓ Correct: ", style="bold green")
    elif given is None:
        head = Text("Skipped. ", style="bold yellow")
    else:
        head = Text(f"✗ Not quite: you chose {given}. ", style="bold red")
    head.append(f"The answer is {question.answer}: {question.answer_text}")
    parts: list = [head]
    if question.explanation:
        parts.append(Text("\n" + question.explanation))
    if question.concepts:
        from advisor.decision.concepts import load_concepts

        terms = [load_concepts()[c].term for c in question.concepts[:5]]
        parts.append(Text(f"\nConcepts: {'; '.join(terms)} (advisor explain TERM)", style="dim"))
    border = "green" if given == question.answer else "red" if given else "yellow"
    return Panel(Group(*parts), border_style=border)


def run_interactive(
    questions: Sequence[Question], console: Console, ask: Callable[[str], str] | None = None
) -> tuple[list[Response], bool]:
    """Put each question, give feedback at once; return the responses and whether the taker quit.

    Invalid replies re-prompt; end of input counts as quitting.
    """
    ask = ask or console.input
    responses: list[Response] = []
    for position, question in enumerate(questions, start=1):
        console.print()
        console.print(question_panel(question, position, len(questions)))
        letters = "/".join(question.letters)
        while True:
            try:
                reply = interpret_reply(
                    ask(f"Your answer ({letters}, s skip, q quit, ? help): "), question.letters
                )
            except (EOFError, KeyboardInterrupt):  # end of input or Ctrl-C: stop, keep the score
                console.print()
                return responses, True
            if reply.kind == "help":
                console.print(Panel(HELP_TEXT, title="help", title_align="left"))
            elif reply.kind == "invalid":
                console.print(f"[yellow]Please type one of {letters}, or s, q, ?[/]")
            else:
                break
        if reply.kind == "quit":
            return responses, True
        responses.append(Response(question, reply.letter))
        console.print(feedback_panel(question, reply.letter))
    return responses, False


def topic_table(result: QuizResult, title: str = "By topic", interval: bool = False) -> Table:
    """Correct answers per topic; with `interval`, the 95% Wilson interval of each score."""
    from advisor.quiz.auto import wilson_interval

    table = Table(title=title, title_justify="left")
    table.add_column("topic")
    table.add_column("correct", justify="right")
    table.add_column("asked", justify="right")
    table.add_column("score", justify="right")
    if interval:
        table.add_column("95% interval", justify="right")
    for topic, score in result.by_topic().items():
        row = [topic, str(score.correct), str(score.total), f"{score.accuracy:.0%}"]
        if interval:
            low, high = wilson_interval(score.correct, score.total)
            row.append(f"{low:.0%}–{high:.0%}")
        table.add_row(*row)
    return table


def print_summary(result: QuizResult, console: Console) -> None:
    """The final score, a per-topic breakdown and how to repeat the quiz."""
    if not result.responses:
        console.print("No questions answered.")
        return
    line = f"[bold]Score: {result.correct}/{result.total}[/] ({result.accuracy:.0%})"
    if result.skipped:
        line += f", {result.skipped} skipped"
    if result.quit_early:
        line += f" — stopped after {result.total} of {result.planned} questions"
    console.print(Panel(line, title="Result", title_align="left"))
    console.print(topic_table(result))
    console.print(f"[dim]Same questions again: --seed {result.seed}[/]")


def print_sheet(result: QuizResult, console: Console) -> None:
    """One row per question for a scripted run, then the summary."""
    table = Table(title="Answers", title_justify="left")
    for column in ("#", "id", "topic", "given", "key", ""):
        table.add_column(column)
    for position, response in enumerate(result.responses, start=1):
        mark = (
            "[green]✓[/]"
            if response.correct
            else "[yellow]-[/]"
            if response.skipped
            else "[red]✗[/]"
        )
        q = response.question
        table.add_row(str(position), q.id, q.topic, response.given or "-", q.answer, mark)
    console.print(table)
    print_summary(result, console)


def grade_answers(
    questions: Sequence[Question], answers: str | None, *, seed: int, bank: str
) -> QuizResult:
    """Grade a whole answer sheet: `answers`, or stdin when it is None."""
    if answers is None:
        answers = sys.stdin.read()
        if not answers.strip():
            raise AdvisorError(
                "no answers on stdin",
                hint="run it in a terminal, pass --answers ABDC..., or pipe the letters in",
            )
    responses = grade_sheet(questions, parse_answer_sheet(answers))
    return QuizResult(responses, seed, "answers", bank, planned=len(questions))


def topics_table(questions: Sequence[Question]) -> Table:
    table = Table(title="Topics", title_justify="left")
    table.add_column("topic")
    table.add_column("questions", justify="right")
    for topic, count in topic_counts(questions).items():
        table.add_row(topic, str(count))
    return table


def print_auto_report(result: QuizResult, console: Console) -> None:
    """The engine's accuracy, per topic, and every miss with the engine's reasoning."""
    from advisor.quiz.auto import wilson_interval

    engine = result.extra.get("engine", {})
    low, high = wilson_interval(result.correct, result.total)
    readers = sorted({e.get("engine", "keywords") for e in engine.values()}) or ["keywords"]
    console.print(
        Panel(
            f"[bold]The engine answered {result.correct}/{result.total} correctly[/]"
            f" ({result.accuracy:.0%}; 95% interval {low:.0%}–{high:.0%}, Wilson)"
            f"\nreader: {', '.join(readers)}",
            title="advisor quiz --auto",
            title_align="left",
        )
    )
    console.print(topic_table(result, title="Engine accuracy by topic", interval=True))
    misses = [r for r in result.responses if not r.correct]
    for response in misses:
        console.print(miss_panel(response, engine.get(response.question.id, {})))
    if misses:
        console.print(f"{len(misses)} miss{'es' if len(misses) != 1 else ''}.")


def miss_panel(response: Response, engine: dict) -> Panel:
    """One question the engine got wrong: what it chose, the key, and why it chose as it did."""
    q = response.question
    body = Text(q.scenario + "\n\n")
    chosen = response.given
    reads = engine.get("option_approaches", {})
    body.append("engine: ", style="bold red")
    body.append(f"{chosen}  {q.options.get(chosen, '(no option)')}" if chosen else "(no answer)")
    if chosen in reads:
        body.append(f"  [read as {reads[chosen]}]", style="dim")
    body.append("\nkey:    ", style="bold green")
    body.append(f"{q.answer}  {q.answer_text}")
    if q.answer in reads:
        body.append(f"  [read as {reads[q.answer]}]", style="dim")
    if engine.get("understood"):
        body.append("\nengine read: ", style="bold")
        body.append("; ".join(engine["understood"]))
    if engine.get("recommended"):
        body.append(f"\nengine recommends: {engine['recommended']}", style="bold")
    for reason in engine.get("reasons", []):
        body.append(f"\n  • {reason}")
    title = f"✗ {q.id}"
    return Panel(body, title=title, subtitle=q.topic, title_align="left", border_style="red")
