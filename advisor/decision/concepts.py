"""The concept glossary (`concepts.yaml`): the field's terms, each with a definition,
the approach it maps to, its cues and its usual confusions.

The decision engine reads questions and options that name a concept through it
(an option "Domain-adaptation fine-tuning" is continued pre-training), the quiz
names the concepts its explanations rest on, and `advisor explain TERM` prints
an entry.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import AdvisorError
from advisor.fileio import yaml_error

CONCEPTS_FILE = Path(__file__).with_name("concepts.yaml")


@dataclass(frozen=True)
class Confusion:
    other: str
    how: str


@dataclass(frozen=True)
class Concept:
    id: str
    term: str
    aliases: tuple[str, ...]
    definition: str
    approach: str | None
    cues: tuple[str, ...]
    confusions: tuple[Confusion, ...]
    related: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every way the concept is written: its id, term (with and without the
        parenthesised abbreviation) and aliases."""
        plain = re.sub(r"\s*\([^)]*\)", "", self.term).strip()
        short = re.findall(r"\(([^)]*)\)", self.term)
        return tuple(
            dict.fromkeys([self.id.replace("_", " "), self.term, plain, *short, *self.aliases])
        )


@dataclass(frozen=True)
class Scale:
    """An ordering of concepts or approaches, least first, and the cues that say a
    question is about it."""

    name: str
    order: tuple[str, ...]
    cues: tuple[Any, ...]  # compiled patterns
    also: dict[str, str]  # a label off the ordering → the entry it stands for on it

    def position(self, label: str) -> int | None:
        from advisor.decision.reader import approach_of

        for candidate in (label, approach_of(label)):
            candidate = self.also.get(candidate, candidate)
            if candidate in self.order:
                return self.order.index(candidate)
        return None


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w+]+", " ", text.lower().replace("_", " ")).split())


@functools.cache
def load_concepts(path: Path = CONCEPTS_FILE) -> dict[str, Concept]:
    """Every entry by id; the file is checked (ids unique, references resolve)."""
    from advisor.decision.approaches import APPROACHES

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path) from None
    entries = data.get("concepts") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise AdvisorError("expected `concepts:` with a list of entries", file=path)
    concepts: dict[str, Concept] = {}
    for n, raw in enumerate(entries):
        where = f"concepts[{n}]"
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("definition"):
            raise AdvisorError("an entry needs an id and a definition", file=path, field=where)
        if raw["id"] in concepts:
            raise AdvisorError(f"duplicate id '{raw['id']}'", file=path, field=f"{where}.id")
        approach = raw.get("approach")
        if approach is not None and approach not in APPROACHES:
            raise AdvisorError(
                f"unknown approach '{approach}'", file=path, field=f"{where}.approach"
            )
        concepts[raw["id"]] = Concept(
            id=raw["id"],
            term=str(raw.get("term") or raw["id"]),
            aliases=tuple(str(a) for a in raw.get("aliases") or ()),
            definition=" ".join(str(raw["definition"]).split()),
            approach=approach,
            cues=tuple(str(c) for c in raw.get("cues") or ()),
            confusions=tuple(
                Confusion(str(c["with"]), " ".join(str(c["how"]).split()))
                for c in raw.get("confusions") or ()
            ),
            related=tuple(raw.get("related") or ()),
        )
    for concept in concepts.values():
        for other in (*concept.related, *(c.other for c in concept.confusions)):
            if other not in concepts:
                raise AdvisorError(f"'{concept.id}' refers to unknown entry '{other}'", file=path)
    return concepts


@functools.cache
def load_scales(path: Path = CONCEPTS_FILE) -> dict[str, Scale]:
    """The orderings of the glossary's `scales:` section."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = set(load_concepts(path))
    from advisor.decision.approaches import APPROACHES

    scales = {}
    for name, raw in (data.get("scales") or {}).items():
        order = tuple(raw["order"])
        unknown = [x for x in order if x not in known and x not in APPROACHES]
        if unknown:
            raise AdvisorError(f"unknown entries {unknown}", file=path, field=f"scales.{name}")
        cues = tuple(re.compile(c, re.IGNORECASE) for c in raw.get("cues") or ())
        also = {str(k): str(v) for k, v in (raw.get("also") or {}).items()}
        if any(v not in order for v in also.values()):
            raise AdvisorError(
                "`also` must name entries of `order`", file=path, field=f"scales.{name}"
            )
        scales[name] = Scale(name, order, cues, also)
    return scales


@functools.cache
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for concept in load_concepts().values():
        for name in concept.names:
            index.setdefault(_fold(name), concept.id)
    return index


def find_concept(term: str) -> Concept | None:
    """The entry a term names (id, term, abbreviation or alias; case and punctuation
    ignored), or None."""
    found = _name_index().get(_fold(term))
    return load_concepts()[found] if found else None


def suggest(term: str, n: int = 3) -> list[str]:
    """Terms close to an unknown one, for "did you mean"."""
    index = _name_index()
    close = difflib.get_close_matches(_fold(term), list(index), n=n * 3, cutoff=0.6)
    terms = [load_concepts()[index[c]].term for c in close]
    return list(dict.fromkeys(terms))[:n]


def concepts_in(text: str) -> list[Concept]:
    """The entries a text names, longest names first, each once, in reading order."""
    folded = f" {_fold(text)} "
    spans: list[tuple[int, int, str]] = []
    for name, concept_id in sorted(_name_index().items(), key=lambda kv: -len(kv[0])):
        if len(name) < 3:
            continue
        for match in re.finditer(rf"(?<=\s){re.escape(name)}(?=\s)", folded):
            start, end = match.span()
            if not any(s <= start < e or s < end <= e for s, e, _ in spans):
                spans.append((start, end, concept_id))
    concepts = load_concepts()
    ordered = dict.fromkeys(cid for _, _, cid in sorted(spans))
    return [concepts[cid] for cid in ordered]
