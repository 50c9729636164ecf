"""What the engine returns: a ranked verdict per approach, with the reasons.

Plain frozen dataclasses, so reports, the quiz and tests read the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.decision.approaches import label
from advisor.decision.scenario import Scenario

if TYPE_CHECKING:
    from advisor.decision.breakeven import BreakEven
    from benchmarks.results import RunResults
    from benchmarks.significance import PairedTest

RECOMMENDED = "recommended"
VIABLE = "viable"
NOT_ADVISED = "not advised"
VERDICTS = (RECOMMENDED, VIABLE, NOT_ADVISED)


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired, and what it did to one approach (points or "veto")."""

    id: str
    effect: float | str
    rationale: str
    condition: str

    @property
    def effect_text(self) -> str:
        return "veto" if isinstance(self.effect, str) else f"{self.effect:+.1f}"


@dataclass(frozen=True)
class Measured:
    """One strategy's numbers from a benchmark run, as the reasons quote them."""

    mean: float
    std: float
    n_seeds: int
    n_items: int
    band: float
    band_basis: str
    by_kind: dict[str, float]
    cost: dict[str, float]
    status: str  # chosen | within band | below band | excluded
    note: str = ""
    versus: PairedTest | None = None  # this strategy against the best, item by item
    versus_name: str = ""  # the best allowed strategy (what `versus` compares with)


@dataclass(frozen=True)
class ApproachVerdict:
    approach: str
    score: float
    verdict: str
    rules: tuple[FiredRule, ...] = ()
    would_change: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # evidence sentences (and notes), quoted before the rules
    measured: Measured | None = None

    @property
    def label(self) -> str:
        return label(self.approach)

    @property
    def vetoed_by(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules if isinstance(r.effect, str))

    @property
    def for_(self) -> tuple[FiredRule, ...]:
        """Rules that raised this approach, strongest first."""
        return tuple(sorted((r for r in self.rules if _points(r) > 0), key=lambda r: -_points(r)))

    @property
    def against(self) -> tuple[FiredRule, ...]:
        """Rules that lowered or vetoed it, strongest first."""
        return tuple(sorted((r for r in self.rules if _points(r) < 0), key=_points))

    @property
    def headline_reason(self) -> str:
        """One sentence for a table cell: evidence first, else the strongest rule."""
        if self.reasons:
            return self.reasons[0]
        strongest = self.for_ if self.verdict != NOT_ADVISED else self.against
        if strongest:
            return strongest[0].rationale
        return "No rule spoke for or against it; its place comes from the effort prior."


def _points(rule: FiredRule) -> float:
    return -100.0 if isinstance(rule.effect, str) else rule.effect


@dataclass(frozen=True)
class Understood:
    """A fact read from free text: the field, its value and the words it came from."""

    field: str
    value: Any
    phrase: str
    how: str = "keyword"  # keyword | number | similarity

    def __iter__(self):  # unpacks as (field, value, phrase)
        return iter((self.field, self.value, self.phrase))


@dataclass(frozen=True)
class EvidenceSummary:
    """The benchmark run a recommendation used, and how it chose."""

    run_id: str
    task: str
    path: Path
    metric: str
    cost_basis: str
    chosen: str | None
    best: str
    results: RunResults = field(repr=False)
    band_note: str = "Noise band: std over seeds, else the binomial standard error over items."
    break_even: tuple[BreakEven, ...] = ()  # each trained strategy against the best untrained
    hourly_usd: float | None = None  # the price the break-even uses
    price_basis: str = ""  # where that price came from, in words
    queries_per_month: int | None = None  # the user's volume, when given


@dataclass(frozen=True)
class Recommendation:
    scenario: Scenario
    ranking: tuple[ApproachVerdict, ...]
    fired: tuple[str, ...]  # ids of every rule that fired
    evidence: EvidenceSummary | None = None
    understood: tuple[Understood, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = "constraints"  # constraints | text | run

    @property
    def top(self) -> ApproachVerdict:
        return self.ranking[0]

    @property
    def approach(self) -> str:
        return self.top.approach

    def verdict_of(self, approach: str) -> ApproachVerdict:
        return next(v for v in self.ranking if v.approach == approach)

    def rank_of(self, approach: str) -> int:
        """1-based position in the ranking."""
        return next(i for i, v in enumerate(self.ranking, start=1) if v.approach == approach)

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(v.approach for v in self.ranking)

    def with_text(
        self, understood: tuple[Understood, ...], notes: tuple[str, ...] = ()
    ) -> Recommendation:
        from dataclasses import replace

        return replace(self, understood=understood, notes=self.notes + notes, source="text")
