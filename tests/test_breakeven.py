"""Break-even arithmetic (advisor.decision.breakeven) on constructed figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.decision.breakeven import (
    BreakEven,
    break_even_queries,
    break_even_table,
    format_queries,
    hourly_price,
    query_cost_usd,
    training_cost_usd,
)
from benchmarks.results import RunResults, Stat, StrategyResult


def _strategy(name: str, score: float, **cost: float) -> StrategyResult:
    return StrategyResult(
        name=name,
        n_items=100,
        seeds=(0,),
        overall={"score": Stat(score)},
        by_kind={},
        cost={"train_time_s": 0.0, **cost},
    )


def _run(*strategies: StrategyResult, **extra) -> RunResults:
    return RunResults(
        path=Path("run"),
        run_id="constructed",
        task="banking",
        primary_metric="score",
        strategies={s.name: s for s in strategies},
        **extra,
    )


def test_the_arithmetic() -> None:
    assert training_cost_usd(3600, 0.10) == pytest.approx(0.10)
    assert query_cost_usd(2.0, 3.6) == pytest.approx(0.0005)  # $0.001 a second, 2 answers
    assert break_even_queries(0.10, 0.0005, 0.001) == pytest.approx(200)
    assert break_even_queries(0.10, 0.001, 0.001) is None  # saves nothing: never
    assert break_even_queries(0.10, 0.002, 0.001) is None
    with pytest.raises(ValueError):
        query_cost_usd(0.0, 1.0)


def test_a_volume_is_placed_above_or_below_break_even() -> None:
    even = BreakEven("sft", "rag", 0.36, 0.00025, 0.0005)
    assert even.queries == pytest.approx(1440)
    assert even.months_to_repay(2880) == pytest.approx(0.5)
    assert even.verdict(2880) == "above break-even: repaid in 15.0 days"
    assert even.verdict(1440) == "above break-even: repaid in 30.0 days"
    assert even.verdict(720) == "below break-even: repaid after 2.0 months"
    assert even.verdict(1) == "below break-even: repaid after 120 years"
    never = BreakEven("sft+rag", "rag", 0.36, 0.0006, 0.0005)
    assert never.queries is None and never.verdict(10**9) == "never repaid"


def test_queries_read_as_a_person_would_say_them() -> None:
    assert format_queries(1439.2) == "1,440"
    assert format_queries(2_400_000) == "2.4 million"
    assert format_queries(35_000_000) == "35 million"
    assert format_queries(None) == "never"


def test_each_trained_strategy_against_the_best_untrained_one() -> None:
    run = _run(
        _strategy("prompt", 0.20, answers_per_s=10.0),  # cheapest, but not the best untrained
        _strategy("rag", 0.70, answers_per_s=2.0),
        _strategy("sft", 0.45, train_time_s=360.0, answers_per_s=4.0),
        _strategy("sft+rag", 0.72, train_time_s=360.0, answers_per_s=1.5),
        _strategy("cpt", 0.10, train_time_s=360.0),  # no throughput measured: left out
    )
    table = {b.strategy: b for b in break_even_table(run, hourly_usd=3.6)}
    assert set(table) == {"sft", "sft+rag"}
    sft = table["sft"]
    assert sft.baseline == "rag"
    assert sft.train_cost_usd == pytest.approx(0.36)
    assert sft.query_cost_usd == pytest.approx(0.00025)
    assert sft.baseline_query_cost_usd == pytest.approx(0.0005)
    assert sft.queries == pytest.approx(1440)
    assert table["sft+rag"].queries is None  # slower than rag per query: never repaid


def test_an_older_run_gives_throughput_from_its_answering_time() -> None:
    run = _run(
        _strategy("rag", 0.7, answer_time_s=50.0, latency_s=12.0),  # 2 answers/s
        _strategy("sft", 0.5, train_time_s=360.0, answer_time_s=25.0, latency_s=6.0),
    )
    (sft,) = break_even_table(run, hourly_usd=3.6)
    assert sft.queries == pytest.approx(1440)
    assert break_even_table(_run(_strategy("sft", 0.5, train_time_s=1.0)), 3.6) == ()


def test_the_price_is_the_users_else_the_runs_else_the_shipped_one() -> None:
    from benchmarks.harness import load_prices

    prices = {"cpu_hour_usd": 0.5, "gpu_hour_usd": 4.0}
    gpu_run = _run(_strategy("rag", 0.7), device_type="cuda", hourly_usd=2.5)
    assert hourly_price(gpu_run, prices, "my.yaml") == (4.0, "per GPU hour, from my.yaml")
    assert hourly_price(gpu_run, None) == (2.5, "per GPU hour, the price the run used")
    old = _run(_strategy("rag", 0.7))
    assert hourly_price(old, None) == (
        load_prices()["cpu_hour_usd"],
        "per CPU hour, from the shipped price table",
    )
