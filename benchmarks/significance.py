"""Paired significance: is one strategy's score really above another's?

Every strategy answers the same test items, so two strategies are compared
item by item: the per-item differences cancel out how hard each item is, which
treating the two means as independent would count as noise twice. Two tests:

- **McNemar's exact test** when both strategies score every item 0 or 1 and the
  run has one seed (a classification accuracy): only the items where exactly one
  of the two is right carry information, and under "no difference" each of those
  is equally likely to go either way, so the p-value is a two-sided binomial
  test on the discordant counts.
- **A paired bootstrap** otherwise (fact recall and the other scores in [0, 1];
  0/1 scores over several seeds): resample the test items with replacement — and
  the seeds too when there are several, pairing the two strategies on
  (seed, item) — and take the mean difference of each resample. The 95%
  interval is the 2.5th to 97.5th percentile of those means; the two-sided
  p-value is twice the share of resampled means on the far side of zero, so
  p < 0.05 exactly when the interval leaves zero out.

The resampling is seeded (`BOOTSTRAP_SEED`), so a run's scores.json repeats.
Both strategies' rows must carry the same metric for an item to count; items
where either lacks it (None) are left out of that pair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
MCNEMAR = "mcnemar"
BOOTSTRAP = "bootstrap"

# per-item scores: {seed: {item id: value}}
Scores = Mapping[int, Mapping[str, float | None]]


@dataclass(frozen=True)
class PairedTest:
    """`a` against `b` on the same items: `diff` is mean(a) − mean(b)."""

    a: str
    b: str
    test: str  # mcnemar | bootstrap
    metric: str
    diff: float
    ci_low: float
    ci_high: float
    p: float
    n_items: int
    n_seeds: int
    a_only: int | None = None  # McNemar: items a gets right and b wrong
    b_only: int | None = None
    resamples: int | None = None

    @property
    def significant(self) -> bool:
        return self.p < ALPHA

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2

    def flipped(self) -> PairedTest:
        """The same comparison seen from `b`'s side."""
        return PairedTest(
            a=self.b,
            b=self.a,
            test=self.test,
            metric=self.metric,
            diff=-self.diff,
            ci_low=-self.ci_high,
            ci_high=-self.ci_low,
            p=self.p,
            n_items=self.n_items,
            n_seeds=self.n_seeds,
            a_only=self.b_only,
            b_only=self.a_only,
            resamples=self.resamples,
        )

    def describe(self) -> str:
        """ "McNemar's exact test over 124 items (9 vs 2 discordant)" and the like."""
        if self.test == MCNEMAR:
            return (
                f"McNemar's exact test over {self.n_items} items "
                f"({self.a_only} vs {self.b_only} items only one of the two got right)"
            )
        over = f"{self.n_items} items" + (f" × {self.n_seeds} seeds" if self.n_seeds > 1 else "")
        return f"a paired bootstrap over {over}"

    def numbers(self) -> str:
        """ "+0.02, 95% CI −0.01 to +0.05, p = 0.21" """
        p = "p < 0.001" if self.p < 0.001 else f"p = {self.p:.3f}"
        return f"{self.diff:+.2f}, 95% CI {self.ci_low:+.2f} to {self.ci_high:+.2f}, {p}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "a": self.a,
            "b": self.b,
            "test": self.test,
            "metric": self.metric,
            "diff": round(self.diff, 4),
            "ci": [round(self.ci_low, 4), round(self.ci_high, 4)],
            "p": float(f"{self.p:.4g}"),
            "n_items": self.n_items,
            "n_seeds": self.n_seeds,
        }
        if self.test == MCNEMAR:
            data["discordant"] = [self.a_only, self.b_only]
        if self.resamples is not None:
            data["resamples"] = self.resamples
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairedTest:
        """Raises KeyError / TypeError / ValueError on a damaged entry (the reader names it)."""
        low, high = (float(x) for x in data["ci"])
        test = str(data["test"])
        if test not in (MCNEMAR, BOOTSTRAP):
            raise ValueError(f"unknown test {test!r}")
        discordant = data.get("discordant") or (None, None)
        a_only, b_only = (None if x is None else int(x) for x in discordant)
        values = (float(data["diff"]), low, high, float(data["p"]))
        if not all(math.isfinite(v) for v in values) or not 0 <= values[3] <= 1:
            raise ValueError("diff, ci and p must be finite, p in [0, 1]")
        resamples = data.get("resamples")
        return cls(
            a=str(data["a"]),
            b=str(data["b"]),
            test=test,
            metric=str(data.get("metric", "score")),
            diff=values[0],
            ci_low=low,
            ci_high=high,
            p=values[3],
            n_items=int(data["n_items"]),
            n_seeds=int(data["n_seeds"]),
            a_only=a_only,
            b_only=b_only,
            resamples=None if resamples is None else int(resamples),
        )


def _binary(values: Sequence[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def mcnemar_exact_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: a binomial(n, 1/2) test on the discordant pairs."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1))
    return min(1.0, 2 * tail / 2**n)


def paired_bootstrap(
    diffs: Sequence[Sequence[float]],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float, float]:
    """(mean, CI low, CI high, p) of per-item differences, one row per seed (NaN: missing).

    Items are resampled with replacement; with several rows the rows (seeds) are
    resampled too, and each resample's mean is taken over the (seed, item) cells
    it drew that hold a value.
    """
    import numpy as np

    grid = np.asarray(diffs, dtype=float)
    if grid.ndim != 2 or not np.isfinite(grid).any():
        raise ValueError("expected a seeds × items grid with at least one value")
    n_seeds, n_items = grid.shape
    observed = float(np.nanmean(grid))
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // (n_seeds * n_items))
    values, present = np.nan_to_num(grid), np.isfinite(grid).astype(float)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        items = rng.integers(0, n_items, size=(size, 1, n_items))
        if n_seeds > 1:
            seeds = rng.integers(0, n_seeds, size=(size, n_seeds, 1))
        else:
            seeds = np.zeros((size, 1, 1), dtype=int)
        total = values[seeds, items].sum(axis=(1, 2))
        count = present[seeds, items].sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start : start + size] = total / count
    means = means[np.isfinite(means)]  # a resample that drew only missing cells
    if means.size == 0:
        return observed, observed, observed, 1.0
    low, high = (float(x) for x in np.quantile(means, [ALPHA / 2, 1 - ALPHA / 2]))
    below, above = float(np.mean(means <= 0)), float(np.mean(means >= 0))
    p = min(1.0, 2 * min(below, above))
    return observed, low, high, p


def compare_pair(
    a: str, a_scores: Scores, b: str, b_scores: Scores, metric: str = "score"
) -> PairedTest | None:
    """Pair two strategies on the (seed, item) cells both scored; None if they share none."""
    seeds = sorted(set(a_scores) & set(b_scores))
    items = sorted({i for s in seeds for i in a_scores[s] if i in b_scores[s]})
    pairs = {
        (s, i): (a_scores[s][i], b_scores[s][i])
        for s in seeds
        for i in items
        if a_scores[s].get(i) is not None and b_scores[s].get(i) is not None
    }
    if not pairs:
        return None
    used_seeds = sorted({s for s, _ in pairs})
    used_items = sorted({i for _, i in pairs})
    first = [x for x, _ in pairs.values()]
    second = [y for _, y in pairs.values()]
    grid = [
        [pairs[(s, i)][0] - pairs[(s, i)][1] if (s, i) in pairs else math.nan for i in used_items]
        for s in used_seeds
    ]
    diff, low, high, p = paired_bootstrap(grid)
    common = dict(a=a, b=b, metric=metric, n_items=len(used_items), n_seeds=len(used_seeds))
    if len(used_seeds) == 1 and _binary(first) and _binary(second):
        a_only = sum(1 for x, y in pairs.values() if x > y)
        b_only = sum(1 for x, y in pairs.values() if y > x)
        return PairedTest(
            test=MCNEMAR,
            diff=diff,
            ci_low=low,
            ci_high=high,
            p=mcnemar_exact_p(a_only, b_only),
            a_only=a_only,
            b_only=b_only,
            resamples=BOOTSTRAP_RESAMPLES,
            **common,
        )
    return PairedTest(
        test=BOOTSTRAP,
        diff=diff,
        ci_low=low,
        ci_high=high,
        p=p,
        resamples=BOOTSTRAP_RESAMPLES,
        **common,
    )


def item_scores(
    rows_by_seed: Mapping[int, Sequence[Mapping[str, Any]]], metric: str = "score"
) -> dict[int, dict[str, float | None]]:
    """{seed: {item id: value}} from the harness's scored rows."""
    out: dict[int, dict[str, float | None]] = {}
    for seed, rows in rows_by_seed.items():
        values = {}
        for row in rows:
            value = row.get(metric)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            values[str(row["id"])] = float(value) if ok and math.isfinite(value) else None
        out[seed] = values
    return out


def all_pairs(scores: Mapping[str, Scores], metric: str = "score") -> list[PairedTest]:
    """Every pair of strategies, in the order given (a before b)."""
    tests = []
    for a, b in combinations(scores, 2):
        test = compare_pair(a, scores[a], b, scores[b], metric)
        if test is not None:
            tests.append(test)
    return tests
