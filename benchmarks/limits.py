"""Limits a run takes from the task itself: answer lengths, sequence lengths.

A cap chosen for one task breaks another (a classification prompt that lists 77
labels is longer than a whole banking example; an imported task's answers may
run to paragraphs), so the settings that bound lengths default to 0, "from the
task", and are resolved here from the task's own measured lengths in the
generator's tokens. `advisor tasks validate` reports the same measurements.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advisor.config import RunConfig
from advisor.tasks import Task


@dataclass(frozen=True)
class TaskLengths:
    """Token counts of what the model reads and writes, per train example / test item."""

    train_prompt: tuple[int, ...]  # the rendered conversation up to the answer
    train_answer: tuple[int, ...]  # the answer and its end-of-turn token
    test_prompt: tuple[int, ...]

    @property
    def train_total(self) -> tuple[int, ...]:
        return tuple(p + a for p, a in zip(self.train_prompt, self.train_answer, strict=True))


def measure_lengths(task: Task, tokenizer: Any) -> TaskLengths:
    """Encode every example as SFT trains on it and every test prompt as it is asked."""
    from strategies.generation import render_prompt
    from strategies.prompting import chat
    from strategies.training import conversation_for, end_of_turn_id

    def encoded(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    prompts = tuple(
        encoded(render_prompt(tokenizer, conversation_for(task, e))) for e in task.train
    )
    answers = tuple(encoded(e.answer) + (end_of_turn_id(tokenizer) is not None) for e in task.train)
    tests = tuple(encoded(render_prompt(tokenizer, chat(task, i.question))) for i in task.test)
    return TaskLengths(prompts, answers, tests)


def percentiles(values: Sequence[int]) -> dict[str, int] | None:
    """p50, p95 and max of a list of lengths (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": int(statistics.median(ordered)), "p95": int(p95), "max": ordered[-1]}


def answer_tokens(config: RunConfig, lengths: TaskLengths | None) -> int:
    """`generation.max_new_tokens`, or when 0 the longest train answer (its end token
    included), at most `max_new_tokens_cap`; the cap itself when there is no train set."""
    settings = config.generation
    if settings.max_new_tokens:
        return settings.max_new_tokens
    if lengths is None or not lengths.train_answer:
        return settings.max_new_tokens_cap
    return min(max(lengths.train_answer), settings.max_new_tokens_cap)


def check_questions_fit(task: Task, lengths: TaskLengths, context: int) -> None:
    """Refuse a test item whose prompt alone fills the model's context: there is
    no room left for an answer, and a model asked past its context answers
    garbage (or fails) instead of saying so."""
    from advisor.errors import TaskError

    for item, tokens in zip(task.test, lengths.test_prompt, strict=True):
        if tokens >= context:
            raise TaskError(
                f"{tokens:,} tokens, longer than the model's context ({context:,} tokens)",
                file=task.root / "test.jsonl",
                line=item.line,
                field="question",
                hint="shorten the question, or choose a model with a longer context "
                "(model.generator=...)",
            )


def resolve_limits(
    config: RunConfig, lengths: TaskLengths | None
) -> tuple[RunConfig, dict[str, Any]]:
    """The config the strategies run with: every "from the task" length made concrete.

    Returns it and what was derived (recorded in the run's manifest).
    """
    tokens = answer_tokens(config, lengths)
    derived: dict[str, Any] = {}
    if not config.generation.max_new_tokens:
        derived["generation.max_new_tokens"] = tokens
    resolved = dataclasses.replace(
        config, generation=dataclasses.replace(config.generation, max_new_tokens=tokens)
    )
    return resolved, derived
