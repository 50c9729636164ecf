"""Question banks: the JSONL format, loading and validation.

A bank is a JSONL file, one question per line:

    {"id": "q001", "scenario": "...", "options": {"A": "...", "B": "...", "C": "...", "D": "..."},
     "answer": "B", "explanation": "...", "topic": "changing-facts", "difficulty": "easy",
     "option_approaches": {"A": "prompt", "B": "rag", "C": "sft", "D": "scratch"}}

`id`, `scenario`, `options` and `answer` are required; the rest is optional and
unknown fields are ignored, so a bank written for another tool loads as it is.
`options` may also be a plain list (lettered A, B, C, ... in order).
`option_approaches` labels what each option stands for; it serves validation and
teaching only, never the engine's `--auto` answers.

Every problem is a `BankError` naming the file, line and field, because a bank
is usually written by hand and the line number is what the author needs.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.fileio import read_jsonl

BUILTIN_BANK = Path(__file__).parent / "data" / "bank.jsonl"
OTHER = "other"
"""What an option stands for when it is neither an approach nor a glossary concept."""
DEFAULT_TOPIC = "general"
LETTERS = string.ascii_uppercase


class BankError(AdvisorError):
    """A question bank that does not follow the bank format."""


@dataclass(frozen=True)
class Question:
    """One multiple-choice scenario question, with its key."""

    id: str
    scenario: str
    options: Mapping[str, str]
    answer: str
    explanation: str = ""
    topic: str = DEFAULT_TOPIC
    difficulty: str | None = None
    option_approaches: Mapping[str, str] = field(default_factory=dict)
    source: str = "bank"

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(self.options)

    @property
    def answer_text(self) -> str:
        return self.options[self.answer]

    @property
    def concepts(self) -> tuple[str, ...]:
        """Glossary ids the question rests on: what its options stand for and what its
        text and explanation name (`advisor explain ID` prints each)."""
        from advisor.decision.concepts import concepts_in, load_concepts

        known = load_concepts()
        labelled = [label for label in self.option_approaches.values() if label in known]
        named = [
            c.id for c in concepts_in(f"{self.scenario} {self.answer_text} {self.explanation}")
        ]
        return tuple(dict.fromkeys([*named, *labelled]))

    @property
    def key_approach(self) -> str | None:
        """The approach the key stands for, when the bank labels its options."""
        return self.option_approaches.get(self.answer)

    def to_dict(self) -> dict[str, Any]:
        """The question in the bank format (what `load_bank` reads back)."""
        record: dict[str, Any] = {
            "id": self.id,
            "scenario": self.scenario,
            "options": dict(self.options),
            "answer": self.answer,
            "explanation": self.explanation,
            "topic": self.topic,
        }
        if self.difficulty:
            record["difficulty"] = self.difficulty
        if self.option_approaches:
            record["option_approaches"] = dict(self.option_approaches)
        if self.source != "bank":
            record["source"] = self.source
        return record


def load_bank(path: str | Path | None = None) -> list[Question]:
    """Load and validate a bank (the built-in one by default).

    Raises `BankError` on the first problem, naming file, line and field.
    """
    path = Path(path) if path is not None else BUILTIN_BANK
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for line, record in _read_jsonl(path):
        question = parse_question(record, path=path, line=line)
        if question.id in first_line:
            raise BankError(
                f"duplicate id '{question.id}' (first on line {first_line[question.id]})",
                file=path,
                line=line,
                field="id",
                hint="every question needs its own id",
            )
        first_line[question.id] = line
        questions.append(question)
    return questions


def parse_question(
    record: Mapping[str, Any], *, path: str | Path | None = None, line: int | None = None
) -> Question:
    """One bank record as a `Question`; `path` and `line` only locate errors."""

    def fail(message: str, field_name: str, hint: str | None = None) -> BankError:
        return BankError(message, file=path, line=line, field=field_name, hint=hint)

    qid = record.get("id")
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
        raise fail("missing or empty (a string or a number)", "id")
    scenario = _text(record, "scenario", required=True, fail=fail)
    options = _options(record.get("options"), fail)
    answer = record.get("answer")
    if not isinstance(answer, str) or answer.strip().upper() not in options:
        raise fail(
            f"{answer!r} is not one of the options ({', '.join(options)})",
            "answer",
            hint='the answer is the letter of the right option, e.g. "answer": "B"',
        )
    return Question(
        id=str(qid).strip(),
        scenario=scenario,
        options=options,
        answer=answer.strip().upper(),
        explanation=_text(record, "explanation", fail=fail),
        topic=_text(record, "topic", fail=fail) or DEFAULT_TOPIC,
        difficulty=_text(record, "difficulty", fail=fail) or None,
        option_approaches=_option_approaches(record.get("option_approaches"), options, fail),
    )


def topic_counts(questions: Iterable[Question]) -> dict[str, int]:
    """Questions per topic, topics sorted by name."""
    counts = Counter(q.topic for q in questions)
    return dict(sorted(counts.items()))


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return read_jsonl(path, BankError, what="bank file", hint="pass a JSONL file with --bank")


def _text(record: Mapping[str, Any], key: str, *, fail, required: bool = False) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail("missing or empty" if required else "expected a string", key)
    return value.strip()


def _options(raw: Any, fail) -> dict[str, str]:
    if isinstance(raw, list):
        raw = dict(zip(LETTERS, raw, strict=False)) if len(raw) <= len(LETTERS) else raw
    if not isinstance(raw, dict):
        raise fail(
            "expected an object of lettered options",
            "options",
            hint='e.g. "options": {"A": "...", "B": "...", "C": "...", "D": "..."}',
        )
    if len(raw) < 2:
        raise fail("a question needs at least two options", "options")
    options: dict[str, str] = {}
    for key, text in raw.items():
        letter = str(key).strip().upper()
        if len(letter) != 1 or letter not in LETTERS:
            raise fail(f"option key {key!r} is not a single letter", "options")
        if not isinstance(text, str) or not text.strip():
            raise fail("missing or empty option text", f"options.{letter}")
        options[letter] = text.strip()
    expected = tuple(LETTERS[: len(options)])
    if tuple(sorted(options)) != expected:
        raise fail(
            f"option letters {', '.join(sorted(options))} are not {', '.join(expected)}",
            "options",
            hint="letter the options from A without gaps",
        )
    return {letter: options[letter] for letter in expected}


def _option_approaches(raw: Any, options: Mapping[str, str], fail) -> dict[str, str]:
    """Option letter → what the option stands for. Any label is accepted (banks
    written for other tools label options their own way); the built-in bank's
    labels are approaches, glossary ids or `other` (`known_label`, tested)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail("expected an object mapping option letters to approaches", "option_approaches")
    labels: dict[str, str] = {}
    for key, label in raw.items():
        letter = str(key).strip().upper()
        if letter not in options:
            raise fail(f"{key!r} is not one of the options", "option_approaches")
        if not isinstance(label, str) or not label.strip():
            raise fail("expected a label (text)", f"option_approaches.{letter}")
        labels[letter] = label.strip()
    return labels


def known_label(label: str) -> bool:
    """An approach, a glossary concept or `other`."""
    from advisor.decision import APPROACHES
    from advisor.decision.concepts import load_concepts

    return label in APPROACHES or label in load_concepts() or label == OTHER
