"""Measure free-text accuracy on a set of written scenarios.

A scenario set is a YAML list of items: `id`, `text`, `options` (letter → text),
the expected `approach` and the expected option `answer`. Two numbers come out:
how often the top-ranked approach is the expected one, and how often the chosen
option is the expected letter.

    python -m advisor.decision.evaluation tests/data/decision/scenarios.yaml [--embed]

`--embed` reads the text as `advisor recommend --text` does by default: MiniLM where
the keywords fall short, and the learned reader's reading in the ranking.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from advisor.decision.matcher import TextMatcher
from advisor.decision.text import choose_option


@dataclass(frozen=True)
class ScenarioItem:
    id: str
    text: str
    options: dict[str, str]
    approach: str
    answer: str


@dataclass(frozen=True)
class ItemResult:
    item: ScenarioItem
    top: str
    letter: str | None
    understood: str

    @property
    def approach_ok(self) -> bool:
        return self.top == self.item.approach

    @property
    def option_ok(self) -> bool:
        return self.letter == self.item.answer


@dataclass(frozen=True)
class EvalReport:
    results: tuple[ItemResult, ...]

    @property
    def approach_accuracy(self) -> float:
        return sum(r.approach_ok for r in self.results) / len(self.results)

    @property
    def option_accuracy(self) -> float:
        return sum(r.option_ok for r in self.results) / len(self.results)

    def failures(self) -> list[ItemResult]:
        return [r for r in self.results if not (r.approach_ok and r.option_ok)]


def load_scenario_set(path: str | Path) -> list[ScenarioItem]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [
        ScenarioItem(
            id=str(d["id"]),
            text=str(d["text"]),
            options={str(k): str(v) for k, v in d["options"].items()},
            approach=str(d["approach"]),
            answer=str(d["answer"]),
        )
        for d in data
    ]


def evaluate(
    items: list[ScenarioItem], matcher: TextMatcher | None = None, reader: Any = None
) -> EvalReport:
    """`reader` (a LearnedReader) reads each text for the ranking, as `recommend --text` does
    with MiniLM on."""
    results = []
    for item in items:
        reading = reader.read_approaches(item.text) if reader is not None else None
        choice = choose_option(item.text, item.options, matcher, reading)
        rec = choice.recommendation
        understood = ", ".join(f"{u.field}={u.value}" for u in rec.understood)
        results.append(ItemResult(item, choice.top, choice.letter, understood))
    return EvalReport(tuple(results))


def main(argv: list[str]) -> None:
    paths = [a for a in argv if not a.startswith("--")]
    matcher = reader = None
    if "--embed" in argv:
        from advisor.decision.matcher import MiniLMMatcher
        from advisor.decision.reader import load_reader

        matcher, reader = MiniLMMatcher(), load_reader()
    for path in paths:
        report = evaluate(load_scenario_set(path), matcher, reader)
        n = len(report.results)
        print(f"{path}: {n} scenarios, matcher={'minilm' if matcher else 'none'}")
        print(f"  top approach correct: {report.approach_accuracy:.1%}")
        print(f"  option correct:       {report.option_accuracy:.1%}")
        for r in report.failures():
            print(
                f"  FAIL {r.item.id}: expected {r.item.approach}/{r.item.answer}, got {r.top}/{r.letter}"
            )
            print(f"       understood: {r.understood}")


if __name__ == "__main__":
    main(sys.argv[1:])
