"""Free text in: a scenario, and the answer option that matches the recommendation.

`parse_scenario_text` reads the facts that decide (numbers, then keyword cues,
then — only where the keywords found nothing and a `TextMatcher` is given —
MiniLM similarity to prototype sentences) and says what it understood and from
which words. `classify_option` maps a freely worded answer option to an
approach; `choose_option` picks the option whose approach ranks highest for
the scenario.

The cues are data: `cues.yaml` holds ordered tables of (value, pattern) per
field and of (approach, pattern) for answer options; the first matching cue for
a field wins, so specific phrasings come before general ones.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.decision.approaches import APPROACH_DESCRIPTIONS, APPROACHES
from advisor.decision.engine import recommend
from advisor.decision.matcher import TextMatcher, best_label
from advisor.decision.recommendation import Recommendation, Understood
from advisor.decision.scenario import SCENARIO_SPACE, Scenario, corpus_bucket, format_value
from advisor.errors import ScenarioError

# ---------------------------------------------------------------- scenario cues

NEGATION = re.compile(
    r"\b(no|not|without|rather than|instead of|avoid\w*|never|neither|nor)\b|n't\b", re.I
)


@dataclass(frozen=True)
class Cue:
    field: str
    value: Any
    pattern: re.Pattern
    negatable: bool = False  # skip the match when "not", "without"... come just before it


@dataclass(frozen=True)
class CueBook:
    """The cue tables of `cues.yaml`, compiled."""

    scenario: dict[str, tuple[Cue, ...]]  # field → ordered cues; the first match wins
    gaps: tuple[Cue, ...]  # every match counts
    label_quality: tuple[Cue, ...]
    labeled_without_count: tuple[Cue, ...]
    corpus_without_count: tuple[Cue, ...]
    options: tuple[tuple[str | None, re.Pattern], ...]


CUES_PATH = Path(__file__).with_name("cues.yaml")


def _compile(field_name: str, pairs: list, negatable: bool = False) -> tuple[Cue, ...]:
    return tuple(
        Cue(field_name, value, re.compile(pattern, re.I), negatable) for value, pattern in pairs
    )


@functools.lru_cache(maxsize=1)
def load_cues(path: Path = CUES_PATH) -> CueBook:
    """Read and compile the cue tables (once per process)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    negatable = set(data.get("negatable", ()))
    scenario = {
        name: _compile(name, pairs, name in negatable) for name, pairs in data["scenario"].items()
    }
    unknown = set(scenario) - set(SCENARIO_SPACE)
    if unknown:
        raise ScenarioError(f"cues for unknown fields: {', '.join(sorted(unknown))}", file=path)
    expand = {"<TRAIN>": data["train"], "<RETRIEVE>": data["retrieve"]}
    options = []
    for approach, pattern in data["options"]:
        for token, replacement in expand.items():
            pattern = pattern.replace(token, replacement)
        options.append((approach, re.compile(pattern, re.I)))
    return CueBook(
        scenario=scenario,
        gaps=_compile("gaps", data["gaps"]),
        label_quality=_compile("label_quality", data["label_quality"]),
        labeled_without_count=_compile("labeled_examples", data["labeled_without_count"]),
        corpus_without_count=_compile("unlabeled_corpus", data["corpus_without_count"]),
        options=tuple(options),
    )


_WORD_NUMBERS = {
    "tens of thousands of": 30_000,
    "hundreds of thousands of": 300_000,
    "millions of": 3_000_000,
    "billions of": 3_000_000_000,
    "trillions of": 3_000_000_000_000,
    "a few thousand": 3_000,
    "several thousand": 5_000,
    "thousands of": 3_000,
    "a few hundred": 300,
    "several hundred": 500,
    "hundreds of": 300,
    "a few dozen": 36,
    "dozens of": 36,
    "a dozen": 12,
    "a handful of": 5,
    "tens of": 30,
    "a few": 5,
    "several": 7,
    "a hundred": 100,
    "one hundred": 100,
    "a thousand": 1_000,
    "one thousand": 1_000,
    "a million": 1_000_000,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
}
_MULT = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
_QUANTITY = (
    r"(?P<quantity>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<mult>k|thousand|million|m|billion|b)?\b"
    r"|(?P<words>" + "|".join(sorted(map(re.escape, _WORD_NUMBERS), key=len, reverse=True)) + r")"
)
LABELED_NOUNS = frozenset(
    [
        "example",
        "examples",
        "pairs",
        "conversations",
        "dialogues",
        "dialogs",
        "transcripts",
        "samples",
        "demonstrations",
        "annotations",
        "tickets",
        "emails",
        "instructions",
        "chats",
        "replies",
        "responses",
        "answers",
        "translations",
        "summaries",
        "completions",
    ]
)
CORPUS_NOUNS = {  # rough tokens per unit, to bucket a corpus size
    "tokens": 1,
    "words": 1.3,
    "documents": 1_500,
    "docs": 1_500,
    "pages": 500,
    "articles": 1_500,
    "papers": 6_000,
    "reports": 3_000,
    "manuals": 100_000,
    "books": 100_000,
    "files": 1_500,
    "contracts": 5_000,
    "filings": 20_000,
    "notes": 500,
    "records": 800,
    "logs": 300,
    "recordings": 10_000,
    "gb": 2.5e8,
    "gigabytes": 2.5e8,
    "tb": 2.5e11,
    "terabytes": 2.5e11,
    "pb": 2.5e14,
    "petabytes": 2.5e14,
}
QUANTITY = re.compile(r"(?<![\w$])(?:" + _QUANTITY + r")(?=\s)", re.I)
UNLABELED = re.compile(r"^(?:unlabel+ed|raw|unannotated|unstructured|untagged)$", re.I)
LABELED = re.compile(
    r"^(?:label+ed|annotated|curated|tagged|high-quality|gold|example|approved|reviewed|corrected|"
    r"verified|human-\w+|expert-\w+|hand-\w+|input-output|prompt-\w+|question-answer|model|sample|"
    r"[\w-]+-written|[\w-]+-annotated|[\w-]+-labeled)$",
    re.I,
)
AMOUNT_WINDOW = 7  # words after a number in which to find what it counts
# A number followed by one of these counts time or money, not data.
COUNT_UNITS = frozenset(
    [
        "years",
        "year",
        "months",
        "month",
        "weeks",
        "week",
        "days",
        "day",
        "hours",
        "hour",
        "minutes",
        "percent",
        "%",
        "dollars",
        "gpus",
        "gpu",
        "times",
        "categories",
        "classes",
        "labels",
        "intents",
        "people",
        "employees",
        "customers",
        "users",
    ]
)
# Words that end the phrase a number belongs to.
WINDOW_STOPS = frozenset(
    [
        "and",
        "but",
        "or",
        "to",
        "in",
        "for",
        "per",
        "at",
        "has",
        "have",
        "had",
        "is",
        "are",
        "was",
        "were",
        "with",
        "which",
        "that",
    ]
)


def _amount(match: re.Match) -> float:
    if match.group("words"):
        return float(_WORD_NUMBERS[match.group("words").lower()])
    value = float(match.group("quantity").replace(",", ""))
    return value * _MULT.get((match.group("mult") or "").lower(), 1)


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class ParsedScenario:
    """What `parse_scenario_text` read: the scenario and, for each fact, where it came from."""

    scenario: Scenario
    understood: tuple[Understood, ...]
    used_matcher: bool = False

    def explain(self) -> list[str]:
        return [
            f'{SCENARIO_SPACE[u.field].label}: {format_value(u.field, u.value)}  ← "{u.phrase}"'
            for u in self.understood
        ]


def _negated(text: str, start: int) -> bool:
    clause = re.split(r"[.;,:!?]", text[max(0, start - 40) : start])[-1]
    return bool(NEGATION.search(clause))


def _first_cue(text: str, cues: tuple[Cue, ...]) -> tuple[Cue, re.Match] | None:
    for cue in cues:
        for match in cue.pattern.finditer(text):
            if cue.negatable and _negated(text, match.start()):
                continue
            return cue, match
    return None


def _counted(text: str, end: int) -> tuple[str | None, str, int]:
    """What the number ending at `end` counts: ("labeled" | "corpus" | None, noun, words used)."""
    words = re.findall(r"[\w'&/-]+", text[end : end + 120])[:AMOUNT_WINDOW]
    kind = None
    for used, word in enumerate(words, start=1):
        lower = word.lower()
        if UNLABELED.match(lower):
            kind = "corpus"
        elif LABELED.match(lower) and kind is None:
            kind = "labeled"
        if lower in CORPUS_NOUNS:
            return kind or _labeled_after(words[used:]) or "corpus", lower, used
        if lower in LABELED_NOUNS:
            return kind or "labeled", lower, used
        if lower in COUNT_UNITS:
            return None, "", used
        if lower in WINDOW_STOPS or QUANTITY.match(word):
            break
    return kind, "", len(words)


def _labeled_after(words: list[str]) -> str | None:
    """ "40 reports have been labeled": a labeled word right after the noun."""
    return "labeled" if any(LABELED.match(w) for w in words[:4]) else None


def _read_amounts(text: str, found: dict[str, Understood]) -> None:
    for match in QUANTITY.finditer(text):
        kind, noun, used = _counted(text, match.end())
        if kind is None:
            continue
        phrase = " ".join([match.group(0), *re.findall(r"[\w'&/-]+", text[match.end() :])[:used]])
        amount = _amount(match)
        if kind == "corpus" and "unlabeled_corpus" not in found:
            tokens = amount * CORPUS_NOUNS.get(noun, 1_500)
            found["unlabeled_corpus"] = Understood(
                "unlabeled_corpus", corpus_bucket(tokens), phrase, "number"
            )
        elif kind == "labeled" and "labeled_examples" not in found:
            found["labeled_examples"] = Understood(
                "labeled_examples", int(amount), phrase, "number"
            )


def _read_amounts_without_count(text: str, found: dict[str, Understood], cues: CueBook) -> None:
    for table in (cues.labeled_without_count, cues.corpus_without_count):
        hit = _first_cue(text, table)
        if hit and hit[0].field not in found:
            found[hit[0].field] = Understood(hit[0].field, hit[0].value, hit[1].group(0).strip())


def _read_gaps(text: str, cues: CueBook) -> list[Understood]:
    found = []
    for cue in cues.gaps:
        match = cue.pattern.search(text)
        if match and all(u.value != cue.value for u in found):
            found.append(Understood("gaps", cue.value, match.group(0).strip()))
    return found


def _keyword_facts(text: str, cues: CueBook) -> dict[str, Understood]:
    found: dict[str, Understood] = {}
    _read_amounts(text, found)
    _read_amounts_without_count(text, found, cues)
    for field_name, table in [*cues.scenario.items(), ("label_quality", cues.label_quality)]:
        hit = _first_cue(text, table)
        if hit and field_name not in found:
            found[field_name] = Understood(field_name, hit[0].value, hit[1].group(0).strip())
    return found


# Prototype sentences for the similarity fallback (what the keywords may miss).
GAP_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "facts": (
        "The model gives customers wrong information about our products, prices or opening hours.",
        "The assistant must answer questions using the company's own documents.",
        "The model does not know our internal policies.",
    ),
    "tone": (
        "Replies should sound warm and friendly, like our best agents.",
        "The answers should match our brand's voice.",
    ),
    "format": (
        "Every answer must follow the same layout with fixed sections.",
        "The output has to be structured data that our system can parse.",
    ),
    "behaviour": (
        "The assistant must refuse topics it is not allowed to discuss.",
        "It must follow our rules about what it may say and when to hand over to a human.",
    ),
    "task_skill": (
        "Each incoming message has to be sorted into the right category.",
        "The model must pull specific fields out of documents.",
    ),
    "vocabulary": (
        "The model does not understand the specialised words and abbreviations used in our field.",
    ),
    "modality": (
        "The data is not human language text, and no existing model has seen anything like it.",
    ),
}
SIMILARITY_THRESHOLD = 0.5


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 10]


def parse_scenario_text(text: str, matcher: TextMatcher | None = None) -> ParsedScenario:
    """Read a scenario from free text. `matcher` (e.g. `MiniLMMatcher()`) is consulted only
    for what the keywords did not find: what the base model gets wrong."""
    text = " ".join(text.split())
    cues = load_cues()
    found = _keyword_facts(text, cues)
    gaps = _read_gaps(text, cues)
    used = False
    if not gaps and matcher is not None and (sentences := _sentences(text) or [text]):
        used = True
        gap, score, sentence = best_label(matcher, sentences, GAP_PROTOTYPES)
        knowledge_ruled_out = gap == "facts" and found.get(
            "knowledge", Understood("", "", "")
        ).value in (
            "none",
            "public",
        )
        if score >= SIMILARITY_THRESHOLD and not knowledge_ruled_out:
            gaps.append(Understood("gaps", gap, sentence, f"similarity {score:.2f}"))
    values = {name: u.value for name, u in found.items()}
    if gaps:
        values["gaps"] = tuple(
            v for v in SCENARIO_SPACE["gaps"].values if any(g.value == v for g in gaps)
        )
    understood = tuple(found.values()) + tuple(gaps)
    return ParsedScenario(scenario=Scenario(**values), understood=understood, used_matcher=used)


# ---------------------------------------------------------------- answer options

OPTION_THRESHOLD = 0.40


def classify_option(text: str, matcher: TextMatcher | None = None) -> str | None:
    """Which approach an answer option stands for, or None for a distractor.

    Keywords first; when none match and a `matcher` is given, the approach whose
    descriptions are most similar (if similar enough).
    """
    clean = " ".join(text.lower().split())
    for approach, pattern in load_cues().options:
        if pattern.search(clean):
            return approach
    if matcher is None:
        return None
    approach, score, _ = best_label(matcher, [text], APPROACH_DESCRIPTIONS)
    return approach if score >= OPTION_THRESHOLD else None


@dataclass(frozen=True)
class OptionChoice:
    letter: str | None
    approach: str | None
    recommendation: Recommendation
    option_approaches: dict[str, str | None]
    reasons: tuple[str, ...]
    option_texts: dict[str, str] = field(default_factory=dict)


def recommend_text(text: str, matcher: TextMatcher | None = None) -> Recommendation:
    """Parse free text and recommend, keeping what was understood on the recommendation."""
    parsed = parse_scenario_text(text, matcher)
    return recommend(parsed.scenario).with_text(parsed.understood)


def choose_option(
    scenario_text: str, options: dict[str, str], matcher: TextMatcher | None = None
) -> OptionChoice:
    """Pick the option whose approach ranks highest for the scenario in the text."""
    rec = recommend_text(scenario_text, matcher)
    option_approaches = {letter: classify_option(text, matcher) for letter, text in options.items()}
    candidates = [
        (rec.rank_of(a), letter, a) for letter, a in option_approaches.items() if a is not None
    ]
    if not candidates:
        reasons = (f"No option matches an approach; the scenario points to {rec.top.label}.",)
        return OptionChoice(None, None, rec, option_approaches, reasons, dict(options))
    rank, letter, approach = min(candidates)
    verdict = rec.verdict_of(approach)
    reasons = [f"Option {letter} stands for {verdict.label}, ranked #{rank} ({verdict.verdict})."]
    if rank > 1:
        reasons.append(f"The top approach, {rec.top.label}, is not among the options.")
    reasons += [r.rationale for r in verdict.for_[:3]]
    return OptionChoice(letter, approach, rec, option_approaches, tuple(reasons), dict(options))


__all__ = [
    "APPROACHES",
    "OptionChoice",
    "ParsedScenario",
    "choose_option",
    "classify_option",
    "parse_scenario_text",
    "recommend_text",
]
