"""The decision engine takes the quiz: `advisor quiz --auto`.

Each question goes through the same free-text path as `advisor recommend`: the
engine parses the scenario, ranks the approaches, reads every option's text to
decide which approach it stands for, and picks the best-ranked one. It sees the
scenario and the option texts only; a bank's `option_approaches` labels are
never passed in, so a bank cannot help the engine it is meant to check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from advisor.decision import choose_option
from advisor.decision.matcher import TextMatcher
from advisor.quiz.bank import Question
from advisor.quiz.session import QuizResult, Response


def default_matcher() -> TextMatcher | None:
    """MiniLM for wording the keywords miss, as in `advisor recommend` (None if not installed)."""
    from advisor.decision.matcher import MiniLMMatcher, minilm_installed

    return MiniLMMatcher() if minilm_installed() else None


def engine_answer(question: Question, matcher: TextMatcher | None = None) -> dict[str, Any]:
    """The engine's answer to one question, with how it read the scenario and the options."""
    choice = choose_option(question.scenario, dict(question.options), matcher)
    recommendation = choice.recommendation
    return {
        "letter": choice.letter,
        "approach": choice.approach,
        "recommended": choice.top,
        "option_approaches": {k: v for k, v in choice.option_approaches.items() if v is not None},
        "understood": [
            f"{u.field}={_plain(u.value)} ← {u.phrase!r}" for u in recommendation.understood
        ],
        "reasons": list(choice.reasons),
    }


def run_auto(
    questions: Sequence[Question], *, seed: int, bank: str, matcher: TextMatcher | None = None
) -> QuizResult:
    """Let the engine answer every question; its reading of each is kept in `extra["engine"]`."""
    responses, engine = [], {}
    for question in questions:
        answer = engine_answer(question, matcher)
        engine[question.id] = answer
        responses.append(Response(question, answer["letter"]))
    return QuizResult(
        responses, seed, "auto", bank, planned=len(questions), extra={"engine": engine}
    )


def _plain(value: Any) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)
