"""Break-even: the query volume at which training pays for itself.

A trained strategy (SFT, continued pre-training, from scratch, ...) costs its
training once; in return its queries can be cheaper than those of the best
untrained one — a shorter prompt than few-shot, no retrieved passages — so the
strategy answers faster at the run's batch size. The figures come from the run:

    training cost     = train time (s) x hourly price / 3600
    cost per query    = hourly price / 3600 / answers per second (throughput)
    break-even volume = training cost / (baseline's cost per query - its own)

At or above that many queries a month, the training is repaid within the month
(the whole saving of a model retrained every month); below it, after
`volume / queries per month` months. "never" where the trained strategy costs
as much or more per query than the baseline: cheaper queries never repay it.
The prices are the user's (`--prices`), else the ones the run's costs used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from benchmarks.latency import answers_per_second
from benchmarks.results import RunResults, StrategyResult


def training_cost_usd(train_time_s: float, hourly_usd: float) -> float:
    return train_time_s * hourly_usd / 3600


def query_cost_usd(answers_per_s: float, hourly_usd: float) -> float:
    """What one query costs at a throughput of `answers_per_s` on a machine at `hourly_usd`."""
    if answers_per_s <= 0:
        raise ValueError("throughput must be positive")
    return hourly_usd / 3600 / answers_per_s


def break_even_queries(
    train_cost_usd: float, query_cost_usd: float, baseline_query_cost_usd: float
) -> float | None:
    """Queries after which the training is repaid; None (never) when the trained
    strategy saves nothing per query."""
    saving = baseline_query_cost_usd - query_cost_usd
    if saving <= 0:
        return None
    return train_cost_usd / saving


@dataclass(frozen=True)
class BreakEven:
    """One trained strategy against the best untrained one."""

    strategy: str
    baseline: str
    train_cost_usd: float
    query_cost_usd: float
    baseline_query_cost_usd: float

    @property
    def queries(self) -> float | None:
        """The break-even volume in queries (a month's, to repay within the month); None: never."""
        return break_even_queries(
            self.train_cost_usd, self.query_cost_usd, self.baseline_query_cost_usd
        )

    def months_to_repay(self, queries_per_month: float) -> float | None:
        """How long the training takes to repay at this volume; None: never."""
        if self.queries is None or queries_per_month <= 0:
            return None
        return self.queries / queries_per_month

    def verdict(self, queries_per_month: float) -> str:
        """Whether `queries_per_month` is above or below break-even, in words."""
        months = self.months_to_repay(queries_per_month)
        if months is None:
            return "never repaid"
        if months <= 1:
            return f"above break-even: repaid in {_duration(months)}"
        return f"below break-even: repaid after {_duration(months)}"


def _duration(months: float) -> str:
    if months <= 1:
        return f"{max(months * 30, 0.1):.1f} days"
    if months < 24:
        return f"{months:.1f} months"
    return f"{months / 12:,.0f} years"


def format_queries(queries: float | None) -> str:
    """`1,907`, `2.4 million`, or `never`."""
    if queries is None:
        return "never"
    if queries >= 10_000_000:
        return f"{queries / 1_000_000:,.0f} million"
    if queries >= 1_000_000:
        return f"{queries / 1_000_000:.1f} million"
    return f"{math.ceil(queries):,}"


def hourly_price(
    results: RunResults, prices: Mapping[str, float] | None, source: str = "--prices"
) -> tuple[float, str]:
    """(hourly price for the run's device, where it came from): `prices` (a `--prices`
    table), else the price the run's costs used, else the shipped table."""
    kind = "GPU" if results.device_type == "cuda" else "CPU"
    if prices is None and results.hourly_usd is not None:
        return results.hourly_usd, f"per {kind} hour, the price the run used"
    if prices is None:
        from benchmarks.harness import load_prices

        prices, source = load_prices(), "the shipped price table"
    key = "gpu_hour_usd" if kind == "GPU" else "cpu_hour_usd"
    return float(prices[key]), f"per {kind} hour, from {source}"


def _throughput(result: StrategyResult) -> float | None:
    return answers_per_second(result.cost, result.n_items)


def _trained(result: StrategyResult) -> bool:
    return result.cost.get("train_time_s", 0.0) > 0


def break_even_table(
    results: RunResults, hourly_usd: float, metric: str | None = None
) -> tuple[BreakEven, ...]:
    """Every trained strategy of the run against the best-scoring untrained one (both
    with a measured throughput); () when the run lacks either side."""
    metric = metric or results.primary_metric
    untrained = [
        r for r in results.strategies.values() if not _trained(r) and _throughput(r) is not None
    ]
    if not untrained:
        return ()
    baseline = max(untrained, key=lambda r: (r.overall.get(metric) or r.score).mean)
    baseline_cost = query_cost_usd(_throughput(baseline), hourly_usd)
    rows = []
    for result in results.strategies.values():
        rate = _throughput(result)
        if not _trained(result) or rate is None:
            continue
        rows.append(
            BreakEven(
                strategy=result.name,
                baseline=baseline.name,
                train_cost_usd=training_cost_usd(result.cost["train_time_s"], hourly_usd),
                query_cost_usd=query_cost_usd(rate, hourly_usd),
                baseline_query_cost_usd=baseline_cost,
            )
        )
    return tuple(rows)
