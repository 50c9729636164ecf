"""A quiz as data: picking questions, reading replies, scoring, saving results.

Nothing here reads a terminal, so the same logic serves the interactive loop,
an answer sheet passed by a script, and the engine's `--auto` run.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.fileio import make_parent, write_text_atomic
from advisor.quiz.bank import LETTERS, Question, topic_counts

HELP_TEXT = (
    "Type the letter of your answer (a, b, c or d; case does not matter).\n"
    "  s  skip this question (counts as not correct)\n"
    "  q  quit now and see the score so far\n"
    "  ?  or h: this help"
)


@dataclass(frozen=True)
class Reply:
    """What one line typed at the prompt means."""

    kind: str  # "answer", "skip", "quit", "help" or "invalid"
    letter: str | None = None


@dataclass(frozen=True)
class Response:
    """One question as it was put to the quiz taker, and what they gave."""

    question: Question
    given: str | None  # None: skipped

    @property
    def correct(self) -> bool:
        return self.given == self.question.answer

    @property
    def skipped(self) -> bool:
        return self.given is None


@dataclass(frozen=True)
class TopicScore:
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass
class QuizResult:
    """A finished (or quit) quiz: every question put, with the given answers."""

    responses: list[Response]
    seed: int
    mode: str  # "interactive", "answers" or "auto"
    bank: str
    planned: int = 0
    quit_early: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.responses)

    @property
    def correct(self) -> int:
        return sum(r.correct for r in self.responses)

    @property
    def skipped(self) -> int:
        return sum(r.skipped for r in self.responses)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def by_topic(self) -> dict[str, TopicScore]:
        """Score per topic, topics sorted by name."""
        scores: dict[str, list[int]] = {}
        for response in self.responses:
            tally = scores.setdefault(response.question.topic, [0, 0])
            tally[0] += response.correct
            tally[1] += 1
        return {topic: TopicScore(*scores[topic]) for topic in sorted(scores)}

    def to_json(self) -> dict[str, Any]:
        """Everything needed to review or re-run the quiz, as plain JSON."""
        return {
            "mode": self.mode,
            "bank": self.bank,
            "seed": self.seed,
            "planned": self.planned or self.total,
            "quit_early": self.quit_early,
            "score": {
                "correct": self.correct,
                "total": self.total,
                "skipped": self.skipped,
                "accuracy": round(self.accuracy, 4),
            },
            "by_topic": {
                topic: {"correct": s.correct, "total": s.total, "accuracy": round(s.accuracy, 4)}
                for topic, s in self.by_topic().items()
            },
            "questions": [
                {**r.question.to_dict(), "given": r.given, "correct": r.correct}
                for r in self.responses
            ],
            **self.extra,
        }


def resolve_seed(seed: int | None) -> int:
    """The seed to use: the given one, or a fresh one that is recorded in the results."""
    return seed if seed is not None else random.SystemRandom().randrange(2**31)


def filter_topics(questions: Sequence[Question], topics: Iterable[str] | None) -> list[Question]:
    """The questions on any of `topics` (case-insensitive); all of them when none are given.

    An unknown topic is an error that lists the bank's topics, since a typo would
    otherwise give an empty quiz.
    """
    wanted = [t.strip().lower() for t in topics or () if t.strip()]
    if not wanted:
        return list(questions)
    known = {t.lower(): t for t in topic_counts(questions)}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise AdvisorError(
            f"unknown topic {', '.join(repr(t) for t in unknown)}",
            field="--topic",
            hint=f"topics in this bank: {', '.join(known.values())}",
        )
    return [q for q in questions if q.topic.lower() in wanted]


def select_questions(questions: Sequence[Question], n: int | None, seed: int) -> list[Question]:
    """`n` questions (all when None) in an order fixed by `seed`."""
    if n is not None and n < 0:
        raise AdvisorError("must be zero or more", field="--n")
    chosen = list(questions)
    random.Random(seed).shuffle(chosen)
    return chosen if n is None else chosen[:n]


def mix(
    bank_questions: Sequence[Question], generated: Sequence[Question], seed: int
) -> list[Question]:
    """Bank and generated questions interleaved in a seeded order."""
    if not generated:
        return list(bank_questions)
    mixed = [*bank_questions, *generated]
    random.Random(seed + 1).shuffle(mixed)
    return mixed


def interpret_reply(text: str, letters: Sequence[str]) -> Reply:
    """Read one line typed at the prompt: a letter, or s / q / ? / h."""
    word = text.strip().rstrip(".)").strip().lower()
    if word.upper() in letters:
        return Reply("answer", word.upper())
    if word in ("s", "skip"):
        return Reply("skip")
    if word in ("q", "quit", "exit"):
        return Reply("quit")
    if word in ("?", "h", "help"):
        return Reply("help")
    return Reply("invalid")


_SKIP_MARKS = {"-", "_", "S", "?"}


def parse_answer_sheet(text: str) -> list[str | None]:
    """Answers for a whole quiz, from `--answers` or stdin.

    One character per question: letters may run together (`ABDC`) or be separated
    by spaces, commas or new lines; `-`, `_`, `s` or `?` skips a question (`None`).
    """
    sheet: list[str | None] = []
    for mark in re.sub(r"[\s,;]+", "", text).upper():
        if mark in _SKIP_MARKS:
            sheet.append(None)
        elif mark in LETTERS:
            sheet.append(mark)
        else:
            raise AdvisorError(
                f"cannot read answer {mark!r}",
                field="answers",
                hint="give one letter per question, e.g. ABDC or 'a b d c'; '-' skips one",
            )
    return sheet


def grade_sheet(questions: Sequence[Question], sheet: Sequence[str | None]) -> list[Response]:
    """Pair an answer sheet with the questions in order.

    A sheet longer than the quiz is an error (the answers would be misaligned);
    a shorter one leaves the remaining questions skipped.
    """
    if len(sheet) > len(questions):
        raise AdvisorError(
            f"{len(sheet)} answers for {len(questions)} questions",
            field="answers",
            hint="give one answer per question (use --n and --seed to fix the quiz)",
        )
    responses = []
    for position, question in enumerate(questions):
        given = sheet[position] if position < len(sheet) else None
        if given is not None and given not in question.letters:
            raise AdvisorError(
                f"answer {position + 1} is {given!r} but question {question.id} has options "
                f"{', '.join(question.letters)}",
                field="answers",
            )
        responses.append(Response(question, given))
    return responses


def save_results(result: QuizResult, path: str | Path) -> Path:
    """Write the results as JSON (creating the folder) and return the path."""
    path = Path(path)
    make_parent(path, what="results")
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(path, text, what="results")
    return path


def build_quiz(
    pool: Sequence[Question],
    *,
    n: int | None,
    topics: Iterable[str] | None,
    seed: int,
    generated: int = 0,
) -> list[Question]:
    """The questions of one quiz: `n` from the bank on `topics`, plus `generated` new ones.

    Everything is fixed by `seed`, so a quiz can be repeated exactly.
    """
    chosen = select_questions(filter_topics(pool, topics), n, seed)
    if generated < 0:
        raise AdvisorError("must be zero or more", field="--generated")
    if not generated:
        return chosen
    from advisor.quiz.generate import generate_questions

    return mix(chosen, generate_questions(generated, seed=seed), seed)
