"""The decision engine takes the quiz: `advisor quiz --auto`.

Two readers, chosen with `--engine`:

- `learned` (the default when MiniLM is installed): the classifiers of
  `advisor.decision.reader`, trained on a practice corpus written apart from
  every evaluation set, pick the option most likely to stand for what the stem
  asks;
- `keywords`: the free-text path of `advisor recommend` — the scenario parsed
  by keyword cues, the approaches ranked by the rules, each option read as an
  approach, the best-ranked one picked.

Either way the rules' reading of the scenario (what it understood, what it
recommends) is shown beside the answer. The engine sees the scenario and the
option texts only; a bank's `option_approaches` labels are never passed in, so a
bank cannot help the engine it is meant to check.
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


def default_reader(engine: str, console: Any = None) -> Any:
    """The learned reader (`--engine learned`, MiniLM installed), else None (keywords)."""
    from advisor.decision.matcher import minilm_installed
    from advisor.errors import ConfigError

    if engine not in ("learned", "keywords"):
        raise ConfigError(
            f"unknown engine '{engine}'", field="--engine", hint="learned or keywords"
        )
    if engine == "keywords" or not minilm_installed():
        return None
    from advisor.decision.reader import load_reader

    if console is not None:
        with console.status("loading the learned reader (the first time: ~1 min to fit it)"):
            return load_reader()
    return load_reader()


def engine_answer(
    question: Question, matcher: TextMatcher | None = None, reader: Any = None
) -> dict[str, Any]:
    """The engine's answer to one question, with how it read the scenario and the options."""
    choice = choose_option(question.scenario, dict(question.options), matcher)
    recommendation = choice.recommendation
    answer = {
        "engine": "keywords",
        "letter": choice.letter,
        "approach": choice.approach,
        "recommended": choice.top,
        "option_approaches": {k: v for k, v in choice.option_approaches.items() if v is not None},
        "understood": [
            f"{u.field}={_plain(u.value)} ← {u.phrase!r}" for u in recommendation.understood
        ],
        "reasons": list(choice.reasons),
    }
    if reader is not None:
        read = reader.choose(question.scenario, dict(question.options))
        asked = ", ".join(f"{label} {p:.2f}" for label, p in read.stem_labels)
        answer.update(
            engine="learned",
            letter=read.letter,
            approach=read.option_labels[read.letter],
            option_approaches=dict(read.option_labels),
            reasons=[
                f"The question asks for: {asked} (learned reader).",
                f"Option {read.letter} reads as {read.option_labels[read.letter]} "
                f"(match {read.scores[read.letter]:.2f}).",
                *(f"Rules: {r}" for r in choice.reasons[:2]),
            ],
        )
    return answer


def run_auto(
    questions: Sequence[Question],
    *,
    seed: int,
    bank: str,
    matcher: TextMatcher | None = None,
    reader: Any = None,
) -> QuizResult:
    """Let the engine answer every question; its reading of each is kept in `extra["engine"]`."""
    responses, engine = [], {}
    for question in questions:
        answer = engine_answer(question, matcher, reader)
        engine[question.id] = answer
        responses.append(Response(question, answer["letter"]))
    return QuizResult(
        responses, seed, "auto", bank, planned=len(questions), extra={"engine": engine}
    )


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (sound near 0 and 1 and for small n)."""
    import math

    if total == 0:
        return 0.0, 1.0
    p = correct / total
    centre = p + z * z / (2 * total)
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    denominator = 1 + z * z / total
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def _plain(value: Any) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)
