"""Measured evidence: choose among the strategies a benchmark run scored.

Among the strategies that meet the scenario's constraints, pick the cheapest
whose score is within the noise band of the best.

- **Noise band.** Strategies answer the same test items, so a strategy is
  compared with the best item by item: it is within the noise band when the
  run's paired test (scores.json `paired`, benchmarks/significance.py: McNemar's
  exact test for 0/1 scores on one seed, else a paired bootstrap over items and
  seeds) does not find the best ahead at the 5% level. Runs written before
  the paired tests existed fall back to a band per strategy: the std of its
  score over seeds when the run has more than one seed; with one seed the
  binomial standard error sqrt(p(1-p)/n_items) of its mean p over the test
  items (an upper bound for a [0, 1] score averaged over items); with neither,
  `DEFAULT_BAND` (0.03). Never below `MIN_BAND`. A strategy is then within the
  band of the best when the gap between them is at most the larger of the two
  noises. Every sentence names the basis it used.
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
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace

from advisor.config import DEFAULT_STRATEGIES
from advisor.decision.approaches import MEASURABLE, base_strategy, effort_rank, rules_approach
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
from benchmarks.significance import PairedTest

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


@dataclass(frozen=True)
class Gap:
    """How far one strategy is behind the best allowed one, and whether that is noise."""

    gap: float  # difference of the means, best − this
    within: bool  # inside the noise band: no difference shown
    band: float  # the paired CI's half-width, or the larger of the two seed/item bands
    basis: str  # how `within` was decided, in words
    test: PairedTest | None = None  # best against this (diff = best − this), when the run has it


def gap_to(top: StrategyResult, result: StrategyResult, results: RunResults, metric: str) -> Gap:
    """`result` against the best: by the run's paired test when it has one, else the band."""
    gap = metric_stat(top, metric).mean - metric_stat(result, metric).mean
    test = None
    if metric == results.primary_metric and top.name != result.name:
        test = results.paired_test(top.name, result.name)
    if test is not None:
        ahead = test.significant and test.diff > 0
        return Gap(gap, not ahead, test.half_width, test.describe(), test)
    (top_band, top_basis), (own_band, own_basis) = (
        noise_band(top, metric),
        noise_band(result, metric),
    )
    band, basis = (own_band, own_basis) if own_band >= top_band else (top_band, top_basis)
    return Gap(gap, gap <= band + 1e-9, band, basis)


def paired_sentence(gap: Gap, top: str, other: str) -> str:
    """ "a paired bootstrap over 124 items × 3 seeds finds no difference (sft+rag − rag +0.02,
    95% CI −0.01 to +0.05, p = 0.210)" """
    assert gap.test is not None
    found = "finds no difference" if gap.within else f"finds {top} ahead"
    return f"{gap.test.describe()} {found} ({top} − {other} {gap.test.numbers()})"


def band_note(results: RunResults) -> str:
    """What the noise band of this run is made of (the tables' footnote)."""
    if results.paired:
        tests = {t.test for t in results.paired.values()}
        how = " and ".join(
            name
            for key, name in (
                ("mcnemar", "McNemar's exact test (0/1 scores)"),
                ("bootstrap", "a paired bootstrap over items and seeds"),
            )
            if key in tests
        )
        return (
            f"Noise band: each strategy against the best on the same items, by {how}; "
            "within it when the best is not ahead at the 5% level."
        )
    return (
        "Noise band: std over seeds, else the binomial standard error over items "
        "(this run has no paired tests)."
    )


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
    chosen, top, in_band = _choose(allowed, scenario, metric, results)
    kinds = focus_kinds(scenario, results)

    measured_verdicts = []
    for result in strategies:
        status, sentence = _status(result, chosen, top, in_band, excluded, metric, results)
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
        versus = None
        if top is not None and top.name != result.name:
            gap = gap_to(top, result, results, metric)
            if gap.test is not None:
                band, basis, versus = gap.band, gap.basis, gap.test.flipped()
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
            versus=versus,
            versus_name=top.name if top is not None else "",
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
            result, status, chosen, top, allowed, scenario, metric, excluded, results
        )
        measured_verdicts.append(
            replace(base, verdict=verdict, reasons=reasons, measured=measured, would_change=changes)
        )

    # an approach is measured when it, or a swept variant of it, was run
    measured_names = {*results.strategies, *map(base_strategy, results.strategies)}
    unmeasured = [
        _unmeasured(v, results) for v in ranked.ranking if v.approach not in measured_names
    ]
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
        band_note=band_note(results),
        break_even=break_even_table(results, hourly, metric),
        hourly_usd=hourly,
        price_basis=price_basis,
        queries_per_month=queries_per_month,
    )
    return replace(ranked, ranking=ranking, evidence=summary, notes=notes, source="run")


def _choose(
    allowed: list[StrategyResult], scenario: Scenario, metric: str, results: RunResults
) -> tuple[StrategyResult | None, StrategyResult | None, set[str]]:
    """(chosen, best allowed, names within the best's noise band)."""
    if not allowed:
        return None, None, set()
    top = max(allowed, key=lambda r: metric_stat(r, metric).mean)
    in_band = {r.name for r in allowed if gap_to(top, r, results, metric).within}
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
    results: RunResults,
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
            lead = _lead_phrase(top, results, excluded)
            return "chosen", f"{_scores(result, metric)}, {which} ({lead})."
        gap = gap_to(top, result, results, metric)
        if gap.test is not None:
            inside = f"{gap.gap:.2f} apart, and {paired_sentence(gap, top.name, result.name)}"
        else:
            inside = f"{gap.gap:.2f} apart, inside the noise band ({gap.band:.2f}, {basis})"
        return "chosen", (
            f"{_scores(result, metric)} vs {_fmt(top_stat)} for {top.name}: {inside}, "
            f"so the cheaper one wins ({_cost_compare(result, top)})."
        )
    if result.name in in_band:
        best = " (the best)" if result.name == top.name else ""
        return "within band", (
            f"{_scores(result, metric)}{best}; {chosen.name} is within the noise band and costs less "
            f"({_cost_compare(chosen, result)})."
        )
    below = metric_stat(chosen, metric).mean - stat.mean
    gap = gap_to(top, result, results, metric)
    if gap.test is not None:
        return "below band", (
            f"{_scores(result, metric)}, {below:.2f} below {chosen.name}: "
            f"{paired_sentence(gap, top.name, result.name)}."
        )
    return "below band", (
        f"{_scores(result, metric)}, {below:.2f} below {chosen.name}: outside the noise band ({band:.2f})."
    )


def _lead_phrase(top: StrategyResult, results: RunResults, excluded: dict[str, str]) -> str:
    """The best's margin over the next best allowed, as the paired test sees it, else its band."""
    metric = results.primary_metric
    rivals = [
        r
        for r in results.strategies.values()
        if r.name != top.name
        and r.name not in excluded
        and results.paired_test(top.name, r.name) is not None
    ]
    band, basis = noise_band(top, metric)
    if not rivals:
        return f"noise band {band:.2f}, {basis}"
    runner_up = max(rivals, key=lambda r: metric_stat(r, metric).mean)
    gap = gap_to(top, runner_up, results, metric)
    return (
        f"against the next best, {runner_up.name}: {paired_sentence(gap, top.name, runner_up.name)}"
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
    results: RunResults,
) -> tuple[str, ...]:
    """What would change a measured strategy's verdict, in terms of the measurements."""
    if status == "excluded":
        return (f"back in the running if this constraint were lifted: {excluded[result.name]}",)
    if chosen is None or top is None:
        return ()
    if status == "chosen":
        changes = []
        if top.name != result.name:
            gap = gap_to(top, result, results, metric)
            if gap.test is not None:
                changes.append(
                    f"{top.name} would be chosen if the paired test found its lead real: "
                    f"{gap.test.diff:+.2f} now (95% CI {gap.test.ci_low:+.2f} to "
                    f"{gap.test.ci_high:+.2f}); a lead above about {gap.band:.2f} (the interval's "
                    f"half-width) on these {gap.test.n_items} items, or the same lead on more "
                    "items or seeds"
                )
            else:
                changes.append(
                    f"{top.name} would be chosen if its lead ({gap.gap:.2f}) grew beyond the noise "
                    f"band ({gap.band:.2f}), e.g. with more seeds or test items"
                )
        rest = [r for r in allowed if r.name != result.name]
        runner_up = _choose(rest, scenario, metric, results)[0]
        if runner_up is not None:
            changes.append(f"{runner_up.name} would be chosen if {result.name} were ruled out")
        return tuple(changes)
    if status == "within band":
        return (f"chosen if it cost less than {chosen.name}, or if {chosen.name} were ruled out",)
    gap = gap_to(top, result, results, metric)
    if gap.test is not None:
        # the interval is about as wide wherever it sits: it reaches 0 once the lead shrinks
        # below its half-width
        need = max(gap.test.diff - gap.band, 0.01)
        return (
            f"needs about {need:.2f} more {metric} for the paired test to find no difference "
            f"from {top.name} (behind by {gap.test.diff:.2f} now, 95% CI "
            f"{gap.test.ci_low:.2f} to {gap.test.ci_high:.2f})",
        )
    need = gap.gap - gap.band
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


def _unmeasured(verdict: ApproachVerdict, results: RunResults) -> ApproachVerdict:
    """An approach the run did not measure: its rules verdict (capped at viable), and how
    to measure it where the harness can."""
    name = verdict.approach
    capped = VIABLE if verdict.verdict == RECOMMENDED else verdict.verdict
    rated = f"the rules rate it {verdict.verdict}."
    if name not in MEASURABLE:
        reason = f"Not measured in this run (the harness does not run it); {rated}"
        return replace(verdict, verdict=capped, reasons=(reason,))
    serves = _task_types(name)
    if results.task_type not in serves:
        reason = (
            f"Not measured: the harness runs {name} on {' and '.join(serves)} tasks, and this "
            f"one is {results.task_type}; {rated}"
        )
        return replace(verdict, verdict=capped, reasons=(reason,))
    command = measure_command(name, results)
    skipped = results.not_scored.get(name)
    if isinstance(skipped, dict) and skipped.get("reason"):
        why = f"it was {skipped.get('status', 'not scored')}: {skipped['reason']}"
    elif not any(name in names for names in DEFAULT_STRATEGIES.values()):
        why = (
            f"the standard profile leaves {name} out of the default strategies to keep "
            "its time and memory targets"
        )
    elif name not in default_strategies(results.task_type):
        why = f"it is not among the default strategies for {results.task_type} tasks"
    else:
        why = "it was not among the strategies this run compared"
    reason = f"Not measured in this run: {why}. Measure it with `{command}`; {rated}"
    changes = (f"measured: `{command}`, then recommend from that run", *verdict.would_change)
    return replace(verdict, verdict=capped, reasons=(reason,), would_change=changes)


def _task_types(name: str) -> tuple[str, ...]:
    """The task types a registered strategy serves (its declared `Needs`)."""
    from strategies.registry import strategy_needs

    return tuple(strategy_needs(name).task_types)


def default_strategies(task_type: str) -> tuple[str, ...]:
    return DEFAULT_STRATEGIES.get(task_type, DEFAULT_STRATEGIES["generation"])


def measure_command(name: str, results: RunResults) -> str:
    """The `advisor compare` that measures `name` beside what this run compared."""
    from benchmarks.manifest import read_config

    names = [*results.strategies, name]
    config = read_config(results.path) or {}
    task = str(config.get("task") or results.task or "TASK")  # a task folder's path, as run
    seeds = sorted({s for r in results.strategies.values() for s in r.seeds})
    flags = f" --seeds {','.join(map(str, seeds))}" if len(seeds) > 1 else ""
    profile = config.get("profile")
    if isinstance(profile, str) and profile != "standard":
        flags += f" --profile {profile}"
    return f"advisor compare --task {shlex.quote(task)} -s {','.join(names)}{flags}"


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
