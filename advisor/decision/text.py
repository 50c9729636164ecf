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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.decision.approaches import APPROACH_DESCRIPTIONS, APPROACHES, label
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
    option_reasons: re.Pattern  # where an option's action clause ends and its reasons begin
    option_rejections: tuple[re.Pattern, ...]  # spans naming an alternative the option turns down
    definition_question: re.Pattern  # a one-sentence question about the approaches themselves
    properties: tuple[tuple[str, re.Pattern], ...]  # what each approach is known for
    property_sentences: dict[str, tuple[str, ...]]  # the same, for the similarity fallback


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
        option_reasons=re.compile(data["option_reasons"], re.I),
        option_rejections=tuple(re.compile(p, re.I) for p in data["option_rejections"]),
        definition_question=re.compile(data["definition_question"], re.I),
        properties=tuple((a, re.compile(p, re.I)) for a, p in data["properties"]),
        property_sentences={a: tuple(v) for a, v in data["property_sentences"].items()},
    )


_WORD_NUMBERS = {
    "hundreds of billions of": 300_000_000_000,
    "tens of billions of": 30_000_000_000,
    "hundreds of millions of": 300_000_000,
    "tens of millions of": 30_000_000,
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
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "a billion": 1_000_000_000,
    "one million": 1_000_000,
    "one billion": 1_000_000_000,
}
_MULT = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "b": 1e9,
    "billion": 1e9,
    "trillion": 1e12,
    "hundred": 1e2,
}
# "fifty thousand", "three trillion": a number in words times a multiplier word
_WORD_MULT = r"(?:\s+(?P<word_mult>hundred|thousand|million|billion|trillion)\b)?"
_QUANTITY = (
    r"(?P<quantity>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*"
    r"(?P<mult>k|thousand|million|m|billion|b|trillion)?\b"
    r"|(?P<words>"
    + "|".join(sorted(map(re.escape, _WORD_NUMBERS), key=len, reverse=True))
    + r")"
    + _WORD_MULT
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
    "base pairs": 1,  # DNA: a sequence corpus, not labeled pairs
    "lines": 10,  # of code or text
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
BYTE_UNITS = frozenset(["gb", "gigabytes", "tb", "terabytes", "pb", "petabytes"])
HARDWARE_AFTER = re.compile(
    r"(?:of\s+)?(?:(?:gpu|graphics|device|accelerator|high-bandwidth|hbm|on-board)\s+)?"
    r"(?:memory|vram|ram|hbm)\b|gpus?\b|cards?\b",
    re.I,
)
HARDWARE_BEFORE = re.compile(
    r"\b(?:gpus?|cards?|accelerators?|instances?|machines?|servers?|laptops?|nodes?)"
    r"\s+(?:with|of|having|that has)\s+(?:only\s+|just\s+|about\s+)?$",
    re.I,
)
QUANTITY = re.compile(r"(?<![\w$])(?:" + _QUANTITY + r")(?=\s)", re.I)
UNLABELED = re.compile(r"^(?:unlabel+ed|raw|unannotated|unstructured|untagged)$", re.I)
LABELED = re.compile(
    r"^(?:label+ed|annotated|curated|tagged|high-quality|gold|example|approved|reviewed|corrected|"
    r"paired|worked|verified|human-\w+|expert-\w+|hand-\w+|input-output|prompt-\w+|question-answer|"
    r"model|sample|[\w-]+-written|[\w-]+-annotated|[\w-]+-labeled)$",
    re.I,
)
AMOUNT_WINDOW = 7  # words after a number in which to find what it counts
MODEL_SIZE = re.compile(
    r"^\s*[\d.,]+\s*(?:b|m)\b[-\s]*(?:parameters?\b|[\w-]*\s*(?:models?|llms?)\b)"
    r"|^\s*[\d.,]+\s*(?:b|m|billion|million)?[-\s]*(?:parameters?|params?)\b",
    re.I,
)
COMPARED_PAIRS = re.compile(
    r"^\s*pairs of (?:candidate |generated |model |alternative |competing |two )?"
    r"(?:responses|answers|outputs|replies|drafts|completions|lines|generations|summaries)\b",
    re.I,
)
PROMPT_SIZE_TOKENS = 100_000  # fewer tokens than this are a prompt or a context, not a corpus
# "... titles she likes": things someone picked are examples of the output wanted.
LIKED = re.compile(
    r"^(?:she|he|they|we|it|the team|the client|staff|editors|users) "
    r"(?:likes?|liked|loves?|prefers?|preferred|approved|chose|picked|wrote|has written)\b",
    re.I,
)
DEMONSTRATED_IN = re.compile(
    r"\b(?:(?:shown|demonstrated|illustrated|exemplified|captured|set out) (?:in|by)|"
    r"(?:approved|written|wrote|picked|chosen|chose|liked)(?: only| just)?) "
    r"(?:the |its |their |some |about |over )?$",
    re.I,
)
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
        scale = _MULT.get((match.group("word_mult") or "").lower(), 1)
        return float(_WORD_NUMBERS[match.group("words").lower()]) * scale
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


def _counted(text: str, start: int, end: int) -> tuple[str | None, str, int]:
    """What the number at `start`..`end` counts: ("labeled" | "corpus" | None, noun, words used).

    The noun decides, else an adjective ("labeled", "raw") followed by a noun; an
    adjective with no noun after it counts nothing ("a model at high volume"). Things
    "shown in 3,000 past memos", "approved only ten slogans" or "titles she likes" are
    examples of the output wanted: labeled, whatever the noun.
    """
    phrase = re.split(r"[.;!?](?:\s|$)", text[end : end + 120], maxsplit=1)[0]  # this sentence
    words = re.findall(r"[\w'&/-]+", phrase)[:AMOUNT_WINDOW]
    if MODEL_SIZE.match(text[start:end] + phrase):
        return None, "", 1  # "a 1B model", "a 7B-parameter model": its size, not data
    if COMPARED_PAIRS.match(phrase):
        return None, "", 1  # "25,000 pairs of responses" marked better: preferences, not examples
    demonstrated = bool(DEMONSTRATED_IN.search(text[max(0, start - 40) : start]))
    kind, named = None, False  # named: a word followed the adjective that set `kind`
    for used, word in enumerate(words, start=1):
        lower = word.lower()
        pair = f"{lower} {words[used].lower()}" if used < len(words) else ""
        named = named or (kind is not None and lower not in WINDOW_STOPS)
        if UNLABELED.match(lower):
            kind = "corpus"
        elif LABELED.match(lower) and kind is None:
            if used > 1 and lower.endswith("ed"):  # "40,000 receipts already labeled"
                return "labeled", words[0].lower(), used
            kind = "labeled"
        if lower in BYTE_UNITS and _hardware_size(text, start, " ".join(words[used:])):
            return None, "", used  # "one GPU with 48 GB of memory" is compute, not data
        if pair in CORPUS_NOUNS:
            return kind or "corpus", pair, used + 1
        if lower in COUNT_UNITS:
            return None, "", used
        if (demonstrated or LIKED.match(" ".join(words[used : used + 3]))) and lower.endswith("s"):
            return "labeled", lower, used  # "shown in 3,000 memos", "twenty titles she likes"
        if lower in CORPUS_NOUNS:
            return kind or _labeled_after(words[used:]) or "corpus", lower, used
        if lower in LABELED_NOUNS:
            return kind or "labeled", lower, used
        if lower in WINDOW_STOPS or QUANTITY.match(word):
            break
    return (kind if named else None), "", len(words)


def _hardware_size(text: str, start: int, after: str) -> bool:
    """A byte size that measures a machine ("a GPU with 80 GB", "24 GB of VRAM",
    "48 GB of memory"), not a body of data."""
    return bool(
        HARDWARE_AFTER.match(after) or HARDWARE_BEFORE.search(text[max(0, start - 40) : start])
    )


def _labeled_after(words: list[str]) -> str | None:
    """ "40 reports have been labeled": a labeled participle right after the noun."""
    return "labeled" if any(LABELED.match(w) and w.endswith("ed") for w in words[:4]) else None


def _read_amounts(text: str, found: dict[str, Understood]) -> None:
    for match in QUANTITY.finditer(text):
        kind, noun, used = _counted(text, match.start(), match.end())
        if kind is None:
            continue
        if noun == "tokens" and _amount(match) < PROMPT_SIZE_TOKENS:
            continue  # "1,500 tokens added per request" is a prompt's size
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
    labeled, preferences = found.get("labeled_examples"), found.get("preference_data")
    if (
        labeled
        and preferences
        and preferences.value is True
        and labeled.phrase in preferences.phrase
    ):
        del found["labeled_examples"]  # "rated thousands of the model's answers": comparisons
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
    # No "modality": a claim that strong (it points to training from scratch) needs the
    # explicit modality words of the keyword cues, not a similar-sounding sentence.
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


def _option_cue(text: str, cues: CueBook) -> tuple[bool, str | None]:
    """(matched, approach) of the first option cue found in `text`."""
    for approach, pattern in cues.options:
        if pattern.search(text):
            return True, approach
    return False, None


def _without_rejections(text: str, cues: CueBook) -> str:
    for pattern in cues.option_rejections:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def read_option(text: str) -> tuple[bool, str | None, bool]:
    """(matched, approach, from_action) for an option read by keywords alone.

    The action clause (before ";", ":" or "because"), with the alternatives it turns
    down removed, is read first; then the whole option with them removed. `from_action`
    says the action clause decided, which is the stronger reading.
    """
    cues = load_cues()
    clean = " ".join(text.lower().split())
    action = cues.option_reasons.split(clean, maxsplit=1)[0]
    for part, from_action in ((action, True), (clean, False)):
        matched, approach = _option_cue(_without_rejections(part, cues), cues)
        if matched:
            return True, approach, from_action
    return False, None, False


def classify_option(text: str, matcher: TextMatcher | None = None) -> str | None:
    """Which approach an answer option stands for, or None for a distractor.

    Keywords first (see `read_option`); when none match and a `matcher` is given, the
    approach whose descriptions are most similar (if similar enough).
    """
    matched, approach, _ = read_option(text)
    if matched or matcher is None:
        return approach
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
    asked_for: str | None = None  # a definition question's approach (not the scenario ranking)

    @property
    def top(self) -> str:
        """The approach the engine answers with: the one asked for, else the top-ranked."""
        return self.asked_for or self.recommendation.approach


@dataclass(frozen=True)
class AskedFor:
    """The approach a definition-style question asks about, and why the engine thinks so."""

    approach: str
    phrase: str
    how: str  # "property", "named" or "similarity 0.63"


PROPERTY_THRESHOLD = 0.5
ALMOST_NOTHING = 1  # facts read from a stem that is still a question about the approaches


def asked_approach(
    text: str, parsed: ParsedScenario, matcher: TextMatcher | None = None
) -> AskedFor | None:
    """For a definition-style question, the approach it asks about; None for a scenario.

    A one-sentence question ("Which approach updates every parameter?") in which the
    scenario reading found almost nothing, or any text in which it found nothing, is
    matched to what each approach is known for (`properties` in cues.yaml); a question
    that names an approach ("When is training from scratch justified?") asks about that one.
    """
    cues = load_cues()
    clean = " ".join(text.split())
    question = bool(cues.definition_question.match(clean))
    if len(parsed.understood) > ALMOST_NOTHING or not (question or not parsed.understood):
        return None
    for approach, pattern in cues.properties:
        if match := pattern.search(clean):
            return AskedFor(approach, match.group(0), "property")
    if question:
        _, approach, _ = read_option(clean)
        if approach is not None:
            return AskedFor(approach, clean, "named")
    if question and matcher is not None:
        approach, score, _ = best_label(matcher, [clean], cues.property_sentences)
        if score >= PROPERTY_THRESHOLD:
            return AskedFor(approach, clean, f"similarity {score:.2f}")
    return None


def _read(text: str, matcher: TextMatcher | None) -> tuple[str | None, int]:
    """(approach, strength) of an option: 2 read from its action clause, 1 from the whole
    option, 0 from similarity."""
    matched, approach, from_action = read_option(text)
    if matched:
        return approach, 2 if from_action else 1
    if matcher is None:
        return None, 0
    approach, score, _ = best_label(matcher, [text], APPROACH_DESCRIPTIONS)
    return (approach if score >= OPTION_THRESHOLD else None), 0


def _pick(letters: list[str], readings: dict[str, tuple[str | None, int]]) -> tuple[str, list[str]]:
    """The strongest-read of several options standing for the same approach, and a note
    when the reading cannot separate them (the first is taken, and the report says so)."""
    strongest = max(readings[x][1] for x in letters)
    best = [x for x in letters if readings[x][1] == strongest]
    if len(best) == 1:
        return best[0], []
    approach = label(readings[best[0]][0] or "")
    return best[0], [
        f"Options {', '.join(best)} all read as {approach}; the engine cannot tell them apart "
        f"and takes {best[0]}, the first."
    ]


def _choose_asked(
    asked: AskedFor,
    rec: Recommendation,
    options: dict[str, str],
    readings: dict[str, tuple[str | None, int]],
    matcher: TextMatcher | None,
) -> OptionChoice | None:
    option_approaches = {letter: a for letter, (a, _) in readings.items()}
    name = label(asked.approach)
    why = (
        f'The question asks about {name} ("{asked.phrase}" is what {name} is known for).'
        if asked.how == "property"
        else f"The question asks about {name} ({asked.how})."
    )
    matching = [x for x, a in option_approaches.items() if a == asked.approach]
    if matching:
        letter, notes = _pick(matching, readings)
        reasons = (why, f"Option {letter} stands for {name}.", *notes)
        return OptionChoice(
            letter, asked.approach, rec, option_approaches, reasons, dict(options), asked.approach
        )
    # The options are situations: pick the one in which the asked approach ranks best.
    fits = []
    for letter, text in options.items():
        situation = parse_scenario_text(text, matcher)
        if not situation.understood:
            continue
        scored = recommend(situation.scenario)
        rival = max(v.score for v in scored.ranking if v.approach != asked.approach)
        margin = scored.verdict_of(asked.approach).score - rival
        fits.append((scored.rank_of(asked.approach), -margin, letter, situation))
    if not fits:
        return None
    rank, _, letter, situation = min(fits)
    facts = ", ".join(f"{u.field}={format_value(u.field, u.value)}" for u in situation.understood)
    reasons = (
        why,
        f"The options describe situations; {name} ranks #{rank} in option {letter}'s ({facts}), "
        "better than in any other.",
    )
    return OptionChoice(
        letter, None, rec, option_approaches, reasons, dict(options), asked.approach
    )


def recommend_text(text: str, matcher: TextMatcher | None = None) -> Recommendation:
    """Parse free text and recommend, keeping what was understood on the recommendation."""
    parsed = parse_scenario_text(text, matcher)
    return recommend(parsed.scenario).with_text(parsed.understood)


def choose_option(
    scenario_text: str,
    options: dict[str, str],
    matcher: TextMatcher | None = None,
    reading: Mapping[str, float] | None = None,
) -> OptionChoice:
    """Pick the option whose approach ranks highest for the scenario in the text (ranked
    with the learned reader's `reading` of it, when given; see advisor.decision.engine).

    A definition-style question (see `asked_approach`) is answered by the option that
    stands for the approach asked about, or, when the options are situations, by the
    situation in which that approach ranks best.
    """
    parsed = parse_scenario_text(scenario_text, matcher)
    rec = recommend(parsed.scenario, reading=reading).with_text(parsed.understood)
    readings = {letter: _read(text, matcher) for letter, text in options.items()}
    option_approaches = {letter: a for letter, (a, _) in readings.items()}
    asked = asked_approach(scenario_text, parsed, matcher)
    if asked is not None and (choice := _choose_asked(asked, rec, options, readings, matcher)):
        return choice
    offered = [a for a in option_approaches.values() if a is not None]
    if not offered:
        reasons = (f"No option matches an approach; the scenario points to {rec.top.label}.",)
        return OptionChoice(None, None, rec, option_approaches, reasons, dict(options))
    approach = min(offered, key=rec.rank_of)
    rank = rec.rank_of(approach)
    letter, notes = _pick([x for x, a in option_approaches.items() if a == approach], readings)
    verdict = rec.verdict_of(approach)
    reasons = [f"Option {letter} stands for {verdict.label}, ranked #{rank} ({verdict.verdict})."]
    reasons += notes
    if rank > 1:
        reasons.append(f"The top approach, {rec.top.label}, is not among the options.")
    reasons += [r.rationale for r in verdict.for_[:3]]
    return OptionChoice(letter, approach, rec, option_approaches, tuple(reasons), dict(options))


__all__ = [
    "APPROACHES",
    "AskedFor",
    "OptionChoice",
    "ParsedScenario",
    "asked_approach",
    "choose_option",
    "classify_option",
    "parse_scenario_text",
    "recommend_text",
]
