"""Sweeps (`--sweep key=v1,v2`) and learning curves over every trained strategy, on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.config import RunConfig, merge, resolve_config, sweep_axes
from advisor.errors import ConfigError
from benchmarks.harness import Harness, Unit
from tiny import cpu_device, tiny_provider, write_tiny_task


def _config(tmp_path: Path, strategies: list[str], **extra) -> RunConfig:
    task = tmp_path / "task"
    if not task.exists():
        write_tiny_task(task)
    data = {
        "task": str(task),
        "strategies": strategies,
        "runs_dir": str(tmp_path / "runs"),
        "generation": {"max_new_tokens": 4, "batch_size": 2},
        "sft": {"max_steps": 2},
        "full_ft": {"max_steps": 1},
        **extra,
    }
    return merge(RunConfig(), data)


def _run(config: RunConfig):
    return Harness(config, models=tiny_provider(), device=cpu_device()).run()


def test_a_sweep_runs_each_value_only_for_the_strategies_that_read_it(tmp_path: Path) -> None:
    config = _config(tmp_path, ["prompt", "rag"], sweep=["rag.top_k=1,2"])
    harness = Harness(config, models=tiny_provider(), device=cpu_device())
    harness._setup()
    assert [u.key for u in harness.units()] == [
        "prompt-seed0",
        "rag(rag.top_k=1)-seed0",
        "rag(rag.top_k=2)-seed0",
    ]
    outcome = _run(config)
    strategies = outcome.scores["strategies"]
    assert set(strategies) == {"prompt", "rag(rag.top_k=1)", "rag(rag.top_k=2)"}
    assert strategies["rag(rag.top_k=2)"]["variant"] == {"rag.top_k": "2"}
    assert strategies["rag(rag.top_k=2)"]["strategy"] == "rag"
    answers = [json.loads(x) for x in (outcome.run_dir / "answers.jsonl").read_text().splitlines()]
    cited = {
        a["unit"]: {len(a["citations"])} for a in answers if a["strategy"] == "rag"
    }  # the swept value is the value the strategy ran with
    assert cited == {"rag(rag.top_k=1)-seed0": {1}, "rag(rag.top_k=2)-seed0": {2}}
    assert {a.get("variant", {}).get("rag.top_k") for a in answers if a["strategy"] == "rag"} == {
        "1",
        "2",
    }


def test_two_axes_expand_into_their_product_for_a_strategy_reading_both(tmp_path: Path) -> None:
    config = _config(
        tmp_path, ["sft", "rag"], sweep=["sft.lora.r=2,4", "rag.top_k=1,2"], seeds=[0, 1]
    )
    harness = Harness(config, models=tiny_provider(), device=cpu_device())
    harness._setup()
    keys = [u.key for u in harness.units()]
    assert len(keys) == 2 * (4 + 2)  # seeds × (sft: r × top_k, rag: top_k)
    assert "sft(sft.lora.r=4,rag.top_k=1)-seed1" in keys and "rag(rag.top_k=2)-seed0" in keys


def test_learning_curve_covers_sft_and_full_ft_with_each_swept_epoch(tmp_path: Path) -> None:
    from advisor.display import learning_curve_tables

    config = _config(
        tmp_path, ["rag", "sft", "full_ft"], train_sizes=["2", "all"], sweep=["sft.epochs=1,2"]
    )
    outcome = _run(config)
    curve = outcome.scores["learning_curve"]
    assert set(curve) == {"sft(sft.epochs=1)", "sft(sft.epochs=2)", "full_ft"}
    for name in curve:
        assert set(curve[name]) == {"2", "all"} and curve[name]["2"]["train_examples"] == 2
    titles = [t.title for t in learning_curve_tables(outcome.scores)]
    assert titles == [
        f"{name} learning curve: score per kind by labeled examples" for name in curve
    ]
    run = outcome.run_dir / "strategies"
    assert (run / "full_ft-seed0-n2").is_dir() and (run / "sft(sft.epochs=2)-seed0-n2").is_dir()


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        (["sft.lora.r=8,x"], "sft.lora.r=x: 'sft.lora.r' expected a whole number"),
        (["seeds=1,2"], "'seeds' cannot be swept"),
        (["sft=1"], "'sft' expected a mapping"),
        (["sft.lora=1"], "'sft.lora' expected a mapping"),
        (["sft.epochs=0,1"], "sft.epochs=0: 'sft' epochs, batch_size, lr and lora.r must be"),
        (["sft.epochs"], "is not key=v1,v2"),
        (["sft.epochs="], "needs a key and at least one value"),
        (["sft.lora.r=8,8"], "repeats a value"),
        (["sft.lora.r=8", "sft.lora.r=16"], "swept twice"),
    ],
)
def test_a_bad_sweep_is_refused_naming_the_flag(sweep: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_config(settings={"sweep": sweep})
    assert caught.value.field == "sweep" and message in str(caught.value)


def test_sweep_values_are_typed_where_they_are_applied() -> None:
    config = resolve_config(settings={"sweep": ["sft.lr=1e-3,0.01", "rag.top_k=3"]})
    assert sweep_axes(config) == [("sft.lr", ["1e-3", "0.01"]), ("rag.top_k", ["3"])]
    from advisor.config import with_settings

    swept = with_settings(config, [("sft.lr", "1e-3"), ("rag.top_k", "3")])
    assert swept.sft.lr == 0.001 and swept.rag.top_k == 3 and config.rag.top_k != 3


def test_unit_names_file_a_variant_apart_from_the_plain_strategy() -> None:
    plain, swept = Unit("sft", 0), Unit("sft", 0, "100", (("sft.epochs", "3"),))
    assert (plain.name, plain.key) == ("sft", "sft-seed0")
    assert (swept.name, swept.key) == ("sft(sft.epochs=3)", "sft(sft.epochs=3)-seed0-n100")


def test_a_swept_variant_is_judged_as_its_strategy_and_counts_it_measured(tmp_path: Path) -> None:
    from advisor.decision import recommend_from_run
    from advisor.decision.approaches import base_strategy, label, rules_approach
    from benchmarks.results import load_run_results

    assert base_strategy("sft(sft.lora.r=8)") == "sft" and base_strategy("sft+rag") == "sft+rag"
    assert rules_approach("full_ft+rag(full_ft.lr=1e-5)") == "full_ft"
    assert label("sft(sft.lora.r=8)") == "Supervised fine-tuning (LoRA), sft.lora.r=8"
    config = _config(tmp_path, ["prompt", "sft"], sweep=["sft.lora.r=2,4"])
    recommendation = recommend_from_run(load_run_results(_run(config).run_dir))
    names = [v.approach for v in recommendation.ranking]
    assert {"sft(sft.lora.r=2)", "sft(sft.lora.r=4)"} <= set(names)
    assert "sft" not in names  # measured through its variants, not listed as unmeasured


def test_the_report_plots_each_learning_curve_and_says_where_it_meets_rag(tmp_path: Path) -> None:
    from advisor.decision import recommend_from_run, to_html, to_markdown
    from benchmarks.results import load_run_results

    config = _config(tmp_path, ["rag", "sft", "full_ft"], train_sizes=["2", "all"])
    results = load_run_results(_run(config).run_dir)
    recommendation = recommend_from_run(results)
    markdown = to_markdown(recommendation, plots_dir=tmp_path / "plots")
    assert (tmp_path / "plots" / "learning_curves.png").stat().st_size > 0
    assert "![learning curves](plots/learning_curves.png)" in markdown
    for name in ("sft", "full_ft"):
        line = next(x for x in markdown.splitlines() if x.startswith(f"{name} within the noise"))
        assert "from 2 examples" in line or "from 13 examples" in line or "not within" in line
    assert 'aria-label="learning_curves"' in to_html(recommendation, title="t")
