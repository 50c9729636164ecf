"""The rules engine: a scenario (and optionally a benchmark run) in, a ranked recommendation out.

Scoring is deliberately simple so a reader can redo it by hand: each approach
starts from its prior (`rules.yaml`), every rule that fires adds its points, and
a veto makes an approach "not advised" whatever its score. The best approach
is "recommended"; others within `VIABLE_MARGIN` points are "viable". Ties go to
the approach with less effort.

"What would change the verdict" is found by search, not written by hand: the
engine re-ranks the scenario with one field changed at a time and reports the
changes that move an approach up.

A text reading (`reading`: approach → probability, from the learned reader's stem
reader, advisor.decision.reader) adds up to `READING_WEIGHT` points to each approach
the text reads like, as one more fired rule (`text-reads-like`) a reader can see and
redo. It never lifts a veto: a rule that rules an approach out still does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor.decision.approaches import APPROACHES, effort_rank, label
from advisor.decision.recommendation import (
    NOT_ADVISED,
    RECOMMENDED,
    VIABLE,
    ApproachVerdict,
    FiredRule,
    Recommendation,
)
from advisor.decision.rules import VETO, RuleSet, load_rules
from advisor.decision.scenario import SCENARIO_SPACE, Scenario, format_value

if TYPE_CHECKING:
    from benchmarks.results import RunResults

VIABLE_MARGIN = 2.5  # points below the best that still count as viable
MIN_VIABLE_SCORE = 0.0  # and never below this
MAX_CHANGES = 3  # "what would change" suggestions per approach
READING_WEIGHT = 6.0  # points for p = 1; chosen on six scenario sets (docs/recommend.md)
READING_FLOOR = 0.1  # readings below this add nothing (and say nothing)
READING_RULE = "text-reads-like"
_SEARCH_SKIP = ("max_latency_s", "max_prompt_tokens")  # limits checked against runs, not rules


@dataclass(frozen=True)
class Scored:
    """The bare result of applying the rules: enough to rank, cheap to recompute."""

    scores: dict[str, float]
    vetoed: frozenset[str]
    fired: dict[str, tuple[FiredRule, ...]]
    fired_ids: tuple[str, ...]

    def order(self) -> list[str]:
        return sorted(
            APPROACHES, key=lambda a: (a in self.vetoed, -round(self.scores[a], 6), effort_rank(a))
        )

    def verdicts(self) -> dict[str, str]:
        order = self.order()
        top = self.scores[order[0]]
        verdicts = {}
        for i, approach in enumerate(order):
            if approach in self.vetoed:
                verdicts[approach] = NOT_ADVISED
            elif i == 0:
                verdicts[approach] = RECOMMENDED
            elif self.scores[approach] >= max(top - VIABLE_MARGIN, MIN_VIABLE_SCORE):
                verdicts[approach] = VIABLE
            else:
                verdicts[approach] = NOT_ADVISED
        return verdicts


def score_scenario(
    scenario: Scenario, rules: RuleSet | None = None, reading: Mapping[str, float] | None = None
) -> Scored:
    """Apply every rule to the scenario, then the text reading when there is one."""
    rules = rules or load_rules()
    scores = dict(rules.prior)
    vetoed: set[str] = set()
    fired: dict[str, list[FiredRule]] = {a: [] for a in APPROACHES}
    fired_ids = []
    for rule in rules.rules:
        if not rule.fires(scenario):
            continue
        fired_ids.append(rule.id)
        for approach, effect in rule.effects.items():
            fired[approach].append(FiredRule(rule.id, effect, rule.rationale, rule.condition_text))
            if effect == VETO:
                vetoed.add(approach)
            else:
                scores[approach] += float(effect)
    for approach, points in _reading_points(reading or {}).items():
        if READING_RULE not in fired_ids:
            fired_ids.append(READING_RULE)
        scores[approach] += points
        fired[approach].append(
            FiredRule(READING_RULE, points, _reading_rationale(approach, reading), "the text")
        )
    return Scored(
        scores=scores,
        vetoed=frozenset(vetoed),
        fired={a: tuple(v) for a, v in fired.items()},
        fired_ids=tuple(fired_ids),
    )


def _reading_points(reading: Mapping[str, float]) -> dict[str, float]:
    return {
        a: round(READING_WEIGHT * p, 1)
        for a, p in reading.items()
        if a in APPROACHES and p >= READING_FLOOR
    }


def _reading_rationale(approach: str, reading: Mapping[str, float]) -> str:
    return (
        f"The text reads like the practice scenarios whose answer is {label(approach)} "
        f"(learned reader, p={reading[approach]:.2f})."
    )


# ---------------------------------------------------------------- what would change


def _alternatives(scenario: Scenario) -> Iterator[tuple[str, Any, str]]:
    """Single-field changes to try: (field, new value, description)."""
    for name, spec in SCENARIO_SPACE.items():
        if name in _SEARCH_SKIP:
            continue
        current = getattr(scenario, name)
        if spec.kind == "set":
            for value in spec.values:
                if value in current:
                    new = tuple(v for v in current if v != value)
                    yield name, new, f"the base model did not get {value} wrong"
                else:
                    new = tuple(v for v in spec.values if v in current or v == value)
                    yield name, new, f"the base model also got {value} wrong"
            continue
        for value in spec.values:
            if value != current:
                now = format_value(name, current)
                yield name, value, f"{spec.label}: {format_value(name, value)} (now {now})"


@dataclass(frozen=True)
class _Change:
    field: str
    text: str
    known: bool  # the field was already known: a concrete change reads better than a new fact
    gain: float  # how much the approach that moves up gains: reasons for it beat vetoes of others


def would_change(
    scenario: Scenario,
    scored: Scored,
    rules: RuleSet | None = None,
    reading: Mapping[str, float] | None = None,
) -> dict[str, tuple[str, ...]]:
    """For each approach, the single changes to the scenario that would move its verdict.

    For the recommended approach: changes that make another one recommended.
    For the others: changes that make it recommended, else at least viable.
    Each field is suggested once per approach; changes to known fields and
    changes that raise the approach itself come first.
    """
    verdicts = scored.verdicts()
    top = scored.order()[0]
    known = set(scenario.known())
    promoted: dict[str, list[_Change]] = {a: [] for a in APPROACHES}
    upgraded: dict[str, list[_Change]] = {a: [] for a in APPROACHES}
    for name, value, text in _alternatives(scenario):
        changed = score_scenario(scenario.replace(**{name: value}), rules, reading)
        new_verdicts = changed.verdicts()
        new_top = changed.order()[0]
        if new_top != top:
            gain = changed.scores[new_top] - scored.scores[new_top]
            promoted[top].append(
                _Change(
                    name, f"{new_top} would be recommended instead if {text}", name in known, gain
                )
            )
        for approach in APPROACHES:
            if approach == top:
                continue
            gain = changed.scores[approach] - scored.scores[approach]
            if new_verdicts[approach] == RECOMMENDED:
                promoted[approach].append(
                    _Change(name, f"recommended if {text}", name in known, gain)
                )
            elif verdicts[approach] == NOT_ADVISED and new_verdicts[approach] == VIABLE:
                upgraded[approach].append(_Change(name, f"viable if {text}", name in known, gain))
    return {a: _best_changes(promoted[a] or upgraded[a]) for a in APPROACHES}


def _best_changes(changes: list[_Change]) -> tuple[str, ...]:
    # Prefer changes that speak for the approach; knocking rivals out is the fallback.
    raising = [c for c in changes if c.gain > 0]
    ordered = sorted(raising or changes, key=lambda c: (not c.known, -c.gain))
    picked, fields = [], set()
    for change in ordered:
        if change.field not in fields:
            fields.add(change.field)
            picked.append(change.text)
    return tuple(picked[:MAX_CHANGES])


# ---------------------------------------------------------------- the recommendation


def rank_by_rules(
    scenario: Scenario, rules: RuleSet | None = None, reading: Mapping[str, float] | None = None
) -> Recommendation:
    """The recommendation from the scenario's constraints (and the text's reading)."""
    scored = score_scenario(scenario, rules, reading)
    verdicts = scored.verdicts()
    changes = would_change(scenario, scored, rules, reading)
    ranking = tuple(
        ApproachVerdict(
            approach=a,
            score=round(scored.scores[a], 2),
            verdict=verdicts[a],
            rules=scored.fired[a],
            would_change=changes[a] or _no_change_note(a, scored),
        )
        for a in scored.order()
    )
    return Recommendation(scenario=scenario, ranking=ranking, fired=scored.fired_ids)


def _no_change_note(approach: str, scored: Scored) -> tuple[str, ...]:
    if approach in scored.vetoed:
        vetoes = ", ".join(r.id for r in scored.fired[approach] if r.effect == VETO)
        return (f"ruled out by {vetoes}; no single change to the scenario brings it back",)
    if approach == scored.order()[0]:
        return ("no single change to the scenario displaces it",)
    return ("no single change to the scenario makes it recommended",)


def recommend(
    scenario: Scenario,
    evidence: RunResults | None = None,
    rules: RuleSet | None = None,
    reading: Mapping[str, float] | None = None,
    **costing: Any,
) -> Recommendation:
    """Rank every approach for the scenario; with a benchmark run, let the measurements decide
    among the strategies the constraints allow (see `advisor.decision.evidence`). `reading`
    is the learned reader's reading of a free text (see the module's docstring); `costing`
    (prices, price_source, queries_per_month) sets the break-even arithmetic."""
    ranked = rank_by_rules(scenario, rules, reading)
    if evidence is None:
        return ranked
    from advisor.decision.evidence import apply_evidence

    return apply_evidence(ranked, evidence, **costing)


def recommend_from_run(
    results: RunResults, scenario: Scenario | None = None, **costing: Any
) -> Recommendation:
    """The recommendation for a finished benchmark run (what `advisor compare` prints last).

    The run says what the task produces (labels or text) when the scenario does not."""
    scenario = scenario or Scenario()
    if scenario.output == "unknown":
        scenario = scenario.replace(
            output="labels" if results.task_type == "classification" else "text"
        )
    return recommend(scenario, evidence=results, **costing)
