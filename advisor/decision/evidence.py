"""Measured evidence: choose among the strategies a benchmark run scored.

Among the strategies that meet the scenario's constraints, pick the cheapest
whose score is within the noise band of the best.

- **Noise band.** A strategy's noise is the std of its score over seeds when the
  run has more than one seed; with one seed it is the binomial standard error
  sqrt(p(1-p)/n_items) of its mean p over the test items (an upper bound for a
  [0, 1] score averaged over items); with neither, `DEFAULT_BAND` (0.03). Never
  below `MIN_BAND`. A strategy is within the band of the best when the gap
  between them is at most the larger of the two noises.
- **Cheapest.** By default: least effort to build and keep running (prompt <
  few-shot < RAG < SFT < RAG+SFT < continued pre-training < full fine-tuning <
  scratch; see
  `approaches.EFFORT`), then measured cost per 1,000 queries, then train time.
  When the goal is the lowest latency (or latency is strict): measured
  per-query latency (p95 of single questions) first, then prompt tokens.
- **Constraints.** A strategy is excluded when a rule vetoes it, or when its
  per-query latency (p95) or prompt tokens exceed the scenario's `max_latency_s`
  or `max_prompt_tokens`. A run made before per-query latency was measured has
  only a batch's wall time (`latency_s`): that is no latency, so `max_latency_s`
  is not checked against it, and a note says so.
- **Break-even.** Each trained strategy against the best untrained one: the
  query volume above which its training cost is repaid by cheaper queries
  (`advisor.decision.breakeven`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from advisor.decision.approaches import MEASURABLE, effort_rank, rules_approach
from advisor.decision.recommendation import (
    NOT_ADVISED,
    RECOMMENDED,
    VIABLE,
    ApproachVerdict,
    EvidenceSummary,
    Measured,
    Recommendation,
)
from advisor.decision.scenario import Scenario
from benchmarks.latency import answers_per_second, query_latency_s
from benchmarks.results import RunResults, Stat, StrategyResult

DEFAULT_BAND = 0.03
MIN_BAND = 0.01

# Which item kinds to quote, given what the scenario cares about (first match wins).
KIND_FOCUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("changing", ("drift", "unseen")),
    ("knowledge", ("unseen", "seen")),
    ("style", ("style",)),
    ("behaviour", ("out_of_scope", "style")),
)


def metric_stat(result: StrategyResult, metric: str) -> Stat:
    return result.overall.get(metric) or result.score


def noise_band(result: StrategyResult, metric: str = "score") -> tuple[float, str]:
    """(band, how it was computed) for one strategy's score."""
    stat = metric_stat(result, metric)
    if stat.n > 1:
        return max(stat.std, MIN_BAND), f"std over {stat.n} seeds"
    if result.n_items > 0:
        p = min(max(stat.mean, 0.0), 1.0)
        return max(
            math.sqrt(p * (1 - p) / result.n_items), MIN_BAND
        ), f"binomial s.e. over {result.n_items} items"
    return DEFAULT_BAND, "default band"


def cost_key(result: StrategyResult, scenario: Scenario) -> tuple[float, ...]:
    """Sort key for "cheapest" (see the module docstring)."""
    cost = result.cost
    effort = float(effort_rank(result.name))
    per_query = cost.get("cost_per_1k_queries_usd", 0.0)
    train = cost.get("train_time_s", 0.0) + cost.get("prepare_time_s", 0.0)
    if latency_first(scenario):
        latency = query_latency_s(cost)
        return (
            math.inf if latency is None else latency,
            cost.get("prompt_tokens", math.inf),
            effort,
        )
    return (effort, per_query, train)


def latency_first(scenario: Scenario) -> bool:
    return scenario.goal == "lowest_latency" or scenario.latency == "strict"


def cost_basis(scenario: Scenario) -> str:
    if latency_first(scenario):
        return "cheapest = lowest measured per-query latency (p95), then fewest prompt tokens"
    return (
        "cheapest = least effort to build and run (prompt < few-shot < RAG < SFT < RAG+SFT < "
        "continued pre-training < full fine-tuning < scratch), then cost per 1,000 queries, "
        "then train time"
    )


def exclusion(
    result: StrategyResult, scenario: Scenario, verdict: ApproachVerdict | None
) -> str | None:
    """Why the scenario's constraints rule this strategy out, or None."""
    if verdict is not None and verdict.vetoed_by:
        rule = next(r for r in verdict.rules if isinstance(r.effect, str))
        return f"rule {rule.id}: {rule.rationale.rstrip('.')}"
    latency = query_latency_s(result.cost)
    if (
        scenario.max_latency_s is not None
        and latency is not None
        and latency > scenario.max_latency_s
    ):
        return (
            f"per-query latency {latency:.2f} s (p95) exceeds the "
            f"{scenario.max_latency_s:g} s limit"
        )
    tokens = result.cost.get("prompt_tokens")
    if (
        scenario.max_prompt_tokens is not None
        and tokens is not None
        and tokens > scenario.max_prompt_tokens
    ):
        return f"{tokens:.0f} prompt tokens per query exceed the {scenario.max_prompt_tokens} limit"
    return None


def focus_kinds(scenario: Scenario, results: RunResults) -> tuple[str, ...]:
    """The item kinds worth quoting for this scenario, among those the run has."""
    present = {k for r in results.strategies.values() for k in r.by_kind}
    wants = {
        "changing": scenario.knowledge_changes in ("monthly", "weekly", "daily", "realtime"),
        "knowledge": scenario.knowledge == "private" or "facts" in scenario.gaps,
        "style": bool({"tone", "format"} & set(scenario.gaps)),
        "behaviour": "behaviour" in scenario.gaps,
    }
    for need, kinds in KIND_FOCUS:
        if wants[need] and any(k in present for k in kinds):
            return tuple(k for k in kinds if k in present)
    return tuple(k for k in ("unseen", "seen", "drift", "style", "out_of_scope") if k in present)


# ---------------------------------------------------------------- sentences


def _fmt(stat: Stat) -> str:
    return f"{stat.mean:.2f} ± {stat.std:.2f}" if stat.n > 1 else f"{stat.mean:.2f}"


def _cost_phrase(result: StrategyResult) -> str:
    cost = result.cost
    parts = []
    if "train_time_s" in cost:
        parts.append(f"train time {cost['train_time_s']:.0f} s")
    if query_latency_s(cost) is not None:
        parts.append(
            f"latency {cost.get('latency_p50_s', cost['latency_p95_s']):.2f} s p50 / "
            f"{cost['latency_p95_s']:.2f} s p95 per question"
        )
    rate = answers_per_second(cost, result.n_items)
    if rate is not None:
        batch = f" at batch {cost['batch_size']:.0f}" if "batch_size" in cost else ""
        parts.append(f"{rate:.1f} answers/s{batch}")
    if "prompt_tokens" in cost:
        parts.append(f"{cost['prompt_tokens']:.0f} prompt tokens")
    if "cost_per_1k_queries_usd" in cost:
        parts.append(f"${cost['cost_per_1k_queries_usd']:.3f} per 1,000 queries")
    return ", ".join(parts)


def _kind_phrase(
    result: StrategyResult, others: list[StrategyResult], kinds: tuple[str, ...], metric: str
) -> str:
    parts = []
    for kind in kinds[:2]:
        own = result.by_kind.get(kind, {}).get(metric)
        if own is None:
            continue
        rivals = [
            (o.name, o.by_kind[kind][metric].mean)
            for o in others
            if metric in o.by_kind.get(kind, {})
        ]
        rival_text = ", ".join(f"{n} {m:.2f}" for n, m in sorted(rivals, key=lambda x: -x[1])[:2])
        parts.append(
            f"on {kind.replace('_', '-')} items {_fmt(own)}"
            + (f" vs {rival_text}" if rival_text else "")
        )
    return "; ".join(parts)


# ---------------------------------------------------------------- applying the evidence


def apply_evidence(
    ranked: Recommendation,
    results: RunResults,
    *,
    prices: Mapping[str, float] | None = None,
    price_source: str = "--prices",
    queries_per_month: int | None = None,
) -> Recommendation:
    """Re-rank a rules-only recommendation with the run's measurements, and work out
    the break-even volumes at `prices` (else the run's own price)."""
    from advisor.decision.breakeven import break_even_table, hourly_price

    scenario = ranked.scenario
    metric = results.primary_metric
    verdicts = {v.approach: v for v in ranked.ranking}
    for name in results.strategies:  # e.g. full_ft+rag, judged by full_ft's rules
        ruled_as = verdicts.get(rules_approach(name))
        if name not in verdicts and ruled_as is not None:
            verdicts[name] = replace(ruled_as, approach=name)
    strategies = list(results.strategies.values())
    excluded = {
        r.name: why for r in strategies if (why := exclusion(r, scenario, verdicts.get(r.name)))
    }
    allowed = [r for r in strategies if r.name not in excluded]
    best = max(strategies, key=lambda r: metric_stat(r, metric).mean)
    chosen, top, in_band = _choose(allowed, scenario, metric)
    kinds = focus_kinds(scenario, results)

    measured_verdicts = []
    for result in strategies:
        status, sentence = _status(result, chosen, top, in_band, excluded, metric)
        others = [o for o in strategies if o.name != result.name]
        extra = _kind_phrase(result, others, kinds, metric)
        overruled = ""
        if status == "chosen" and best.name in excluded:
            overruled = (
                f"{best.name} scores higher ({_fmt(metric_stat(best, metric))}) but is ruled out "
                f"({excluded[best.name]})."
            )
        cost_text = _cost_phrase(result)
        parts = (sentence, overruled, extra and f"{extra}.", cost_text and f"Cost: {cost_text}.")
        reasons = tuple(p for p in parts if p)
        band, basis = noise_band(result, metric)
        stat = metric_stat(result, metric)
        measured = Measured(
            mean=stat.mean,
            std=stat.std,
            n_seeds=stat.n,
            n_items=result.n_items,
            band=band,
            band_basis=basis,
            by_kind={k: v[metric].mean for k, v in result.by_kind.items() if metric in v},
            cost=dict(result.cost),
            status=status,
            note=excluded.get(result.name, ""),
        )
        verdict = (
            RECOMMENDED
            if status == "chosen"
            else VIABLE
            if status == "within band"
            else NOT_ADVISED
        )
        base = verdicts.get(result.name) or ApproachVerdict(result.name, 0.0, NOT_ADVISED)
        changes = _evidence_changes(
            result, status, chosen, top, allowed, scenario, metric, excluded
        )
        measured_verdicts.append(
            replace(base, verdict=verdict, reasons=reasons, measured=measured, would_change=changes)
        )

    unmeasured = [_unmeasured(v) for v in ranked.ranking if v.approach not in results.strategies]
    hourly, price_basis = hourly_price(results, prices, price_source)
    ranking = _order(measured_verdicts, unmeasured, metric)
    notes = ranked.notes
    if chosen is None:
        notes += (
            "No measured strategy meets the constraints: the ranking of unmeasured approaches comes from the rules.",
        )
    unchecked = [r.name for r in strategies if query_latency_s(r.cost) is None]
    if scenario.max_latency_s is not None and unchecked:
        notes += (
            f"max_latency_s was not checked for {', '.join(unchecked)}: the run did not time "
            "single questions (made before per-query latency was measured, or with "
            "generation.latency_sample: 0); its batch wall times are no latency.",
        )
    summary = EvidenceSummary(
        run_id=results.run_id,
        task=results.task,
        path=results.path,
        metric=metric,
        cost_basis=cost_basis(scenario),
        chosen=chosen.name if chosen else None,
        best=best.name,
        results=results,
        break_even=break_even_table(results, hourly, metric),
        hourly_usd=hourly,
        price_basis=price_basis,
        queries_per_month=queries_per_month,
    )
    return replace(ranked, ranking=ranking, evidence=summary, notes=notes, source="run")


def _choose(
    allowed: list[StrategyResult], scenario: Scenario, metric: str
) -> tuple[StrategyResult | None, StrategyResult | None, set[str]]:
    """(chosen, best allowed, names within the best's noise band)."""
    if not allowed:
        return None, None, set()
    top = max(allowed, key=lambda r: metric_stat(r, metric).mean)
    top_mean = metric_stat(top, metric).mean
    in_band = {
        r.name
        for r in allowed
        if top_mean - metric_stat(r, metric).mean
        <= max(noise_band(top, metric)[0], noise_band(r, metric)[0]) + 1e-9
    }
    chosen = min((r for r in allowed if r.name in in_band), key=lambda r: cost_key(r, scenario))
    return chosen, top, in_band


def _scores(result: StrategyResult, metric: str) -> str:
    """ "rag scores 0.71 ± 0.02" (naming the metric when it is not the plain score)."""
    suffix = "" if metric == "score" else f" {metric}"
    return f"{result.name} scores {_fmt(metric_stat(result, metric))}{suffix}"


def _status(
    result: StrategyResult,
    chosen: StrategyResult | None,
    top: StrategyResult | None,
    in_band: set[str],
    excluded: dict[str, str],
    metric: str,
) -> tuple[str, str]:
    """(status, the sentence that explains it) for one measured strategy."""
    stat = metric_stat(result, metric)
    band, basis = noise_band(result, metric)
    if result.name in excluded:
        return "excluded", f"{_scores(result, metric)} but is ruled out ({excluded[result.name]})."
    if chosen is None or top is None:
        return "below band", f"{_scores(result, metric)}."
    top_stat = metric_stat(top, metric)
    if result.name == chosen.name:
        if result.name == top.name:
            which = "the best that meets the constraints" if excluded else "the best measured"
            return "chosen", f"{_scores(result, metric)}, {which} (noise band {band:.2f}, {basis})."
        gap = top_stat.mean - stat.mean
        band = max(band, noise_band(top, metric)[0])
        return "chosen", (
            f"{_scores(result, metric)} vs {_fmt(top_stat)} for {top.name}: {gap:.2f} apart, inside the noise "
            f"band ({band:.2f}, {basis}), so the cheaper one wins ({_cost_compare(result, top)})."
        )
    if result.name in in_band:
        best = " (the best)" if result.name == top.name else ""
        return "within band", (
            f"{_scores(result, metric)}{best}; {chosen.name} is within the noise band and costs less "
            f"({_cost_compare(chosen, result)})."
        )
    gap = metric_stat(chosen, metric).mean - stat.mean
    return "below band", (
        f"{_scores(result, metric)}, {gap:.2f} below {chosen.name}: outside the noise band ({band:.2f})."
    )


def _evidence_changes(
    result: StrategyResult,
    status: str,
    chosen: StrategyResult | None,
    top: StrategyResult | None,
    allowed: list[StrategyResult],
    scenario: Scenario,
    metric: str,
    excluded: dict[str, str],
) -> tuple[str, ...]:
    """What would change a measured strategy's verdict, in terms of the measurements."""
    if status == "excluded":
        return (f"back in the running if this constraint were lifted: {excluded[result.name]}",)
    if chosen is None or top is None:
        return ()
    if status == "chosen":
        changes = []
        if top.name != result.name:
            gap = metric_stat(top, metric).mean - metric_stat(result, metric).mean
            band = max(noise_band(top, metric)[0], noise_band(result, metric)[0])
            changes.append(
                f"{top.name} would be chosen if its lead ({gap:.2f}) grew beyond the noise band "
                f"({band:.2f}), e.g. with more seeds or test items"
            )
        rest = [r for r in allowed if r.name != result.name]
        runner_up = _choose(rest, scenario, metric)[0]
        if runner_up is not None:
            changes.append(f"{runner_up.name} would be chosen if {result.name} were ruled out")
        return tuple(changes)
    if status == "within band":
        return (f"chosen if it cost less than {chosen.name}, or if {chosen.name} were ruled out",)
    band = max(noise_band(top, metric)[0], noise_band(result, metric)[0])
    need = metric_stat(top, metric).mean - band - metric_stat(result, metric).mean
    return (f"needs {need:.2f} more {metric} to come within the noise band of {top.name}",)


def _cost_compare(cheaper: StrategyResult, other: StrategyResult) -> str:
    parts = []
    if effort_rank(cheaper.name) < effort_rank(other.name):
        parts.append(f"less effort than {other.name}")
    for key, name, fmt in (
        ("train_time_s", "train time", "{:.0f} s"),
        ("latency_p95_s", "p95 latency", "{:.2f} s"),
        ("prompt_tokens", "prompt tokens", "{:.0f}"),
    ):
        if key in cheaper.cost and key in other.cost and cheaper.cost[key] != other.cost[key]:
            mine, theirs = fmt.format(cheaper.cost[key]), fmt.format(other.cost[key])
            parts.append(f"{name} {mine} vs {theirs}")
    return "; ".join(parts) or "by the cost order"


def _unmeasured(verdict: ApproachVerdict) -> ApproachVerdict:
    note = "Not measured in this run" + (
        "" if verdict.approach in MEASURABLE else " (the harness does not run it)"
    )
    capped = VIABLE if verdict.verdict == RECOMMENDED else verdict.verdict
    return replace(
        verdict, verdict=capped, reasons=(f"{note}; the rules rate it {verdict.verdict}.",)
    )


def _order(
    measured: list[ApproachVerdict], unmeasured: list[ApproachVerdict], metric: str
) -> tuple[ApproachVerdict, ...]:
    rank = {RECOMMENDED: 0, VIABLE: 1, NOT_ADVISED: 2}
    measured_sorted = sorted(
        measured, key=lambda v: (rank[v.verdict], -(v.measured.mean if v.measured else 0))
    )
    head = [v for v in measured_sorted if v.verdict != NOT_ADVISED]
    tail = [v for v in measured_sorted if v.verdict == NOT_ADVISED]
    un_ok = [v for v in unmeasured if v.verdict != NOT_ADVISED]
    un_no = [v for v in unmeasured if v.verdict == NOT_ADVISED]
    return tuple(head + un_ok + tail + un_no)
