"""Choosing among measured strategies: noise band, cost order, constraints, quoted numbers."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from advisor.decision import Scenario, recommend_from_run
from advisor.decision.evidence import DEFAULT_BAND, MIN_BAND, noise_band
from advisor.decision.recommendation import NOT_ADVISED, RECOMMENDED, VIABLE
from benchmarks.results import load_run_results

DATA = Path(__file__).parent / "data" / "decision"
RUN = DATA / "run_banking"  # three seeds: rag 0.71 ± 0.02, sft+rag 0.73 ± 0.03, sft 0.45 ...
SINGLE = DATA / "run_single_seed"  # the same means, one seed, 124 items


def _edited_run(tmp_path: Path, source: Path, edit) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    data = json.loads((target / "scores.json").read_text())
    edit(data)
    (target / "scores.json").write_text(json.dumps(data))
    return target


def test_cheapest_within_the_noise_band_wins():
    rec = recommend_from_run(load_run_results(RUN))
    assert rec.approach == "rag"  # 0.71 vs the best 0.73: within 0.03, no training
    assert rec.verdict_of("sft+rag").verdict == VIABLE
    assert rec.verdict_of("sft").verdict == NOT_ADVISED
    assert (
        rec.evidence is not None and rec.evidence.best == "sft+rag" and rec.evidence.chosen == "rag"
    )


def test_reasons_quote_the_numbers():
    rec = recommend_from_run(load_run_results(RUN))
    why = " ".join(rec.top.reasons)
    assert "rag scores 0.71 ± 0.02 vs 0.73 ± 0.03 for sft+rag" in why
    assert "noise band (0.03, std over 3 seeds)" in why
    assert "train time 0 s vs 430 s" in why
    sft = " ".join(rec.verdict_of("sft").reasons)
    assert "0.26 below rag" in sft


def test_a_clear_winner_beyond_the_band_is_chosen_even_if_costlier(tmp_path):
    def widen(data):
        data["strategies"]["sft+rag"]["overall"]["score"]["mean"] = 0.90

    rec = recommend_from_run(load_run_results(_edited_run(tmp_path, RUN, widen)))
    assert rec.approach == "sft+rag"
    assert rec.verdict_of("rag").verdict == NOT_ADVISED


def test_single_seed_uses_the_binomial_standard_error():
    results = load_run_results(SINGLE)
    band, basis = noise_band(results.strategies["rag"])
    assert band == pytest.approx(math.sqrt(0.71 * 0.29 / 124))
    assert basis == "binomial s.e. over 124 items"
    assert recommend_from_run(results).approach == "rag"


def test_band_floor_and_default(tmp_path):
    results = load_run_results(RUN)
    assert noise_band(results.strategies["prompt"]) == (MIN_BAND, "std over 3 seeds")  # std 0.00

    def no_items(data):
        for entry in data["strategies"].values():
            entry["n_items"] = 0

    single = load_run_results(_edited_run(tmp_path, SINGLE, no_items))
    assert noise_band(single.strategies["rag"]) == (DEFAULT_BAND, "default band")


def test_latency_limit_rules_out_slow_strategies():
    rec = recommend_from_run(load_run_results(RUN), Scenario(max_latency_s=1.0))
    assert rec.approach == "sft"  # the best of those at or under 1 s
    rag = rec.verdict_of("rag")
    assert rag.verdict == NOT_ADVISED and rag.measured.status == "excluded"
    assert "per-query latency 1.90 s (p95) exceeds the 1 s limit" in rag.reasons[0]
    assert "sft+rag scores higher (0.73 ± 0.03) but is ruled out" in " ".join(rec.top.reasons)
    assert not any("max_latency_s was not checked" in n for n in rec.notes)


def _old_costs(data):
    """scores.json as runs made before per-query latency wrote it: `latency_s` (the wall
    time of an answer's batch) in place of per-query latency and throughput."""
    data.pop("hourly_usd", None)
    for entry in data["strategies"].values():
        cost = entry["cost"]
        cost["latency_s"] = 12.0 + cost.pop("latency_p95_s")
        for key in ("latency_p50_s", "latency_n", "answers_per_s", "answer_tokens_per_s"):
            cost.pop(key)
        cost.pop("batch_size")


def test_a_batch_wall_time_from_an_older_run_is_never_held_to_a_latency_limit(tmp_path):
    old = load_run_results(_edited_run(tmp_path, RUN, _old_costs))
    rec = recommend_from_run(old, Scenario(max_latency_s=1.0))
    assert rec.approach == "rag"  # as without the limit: nothing is ruled out by it
    assert not any(v.measured and v.measured.status == "excluded" for v in rec.ranking)
    assert any("max_latency_s was not checked for prompt, fewshot, rag" in n for n in rec.notes)
    reasons = " ".join(rec.top.reasons)
    assert "latency" not in reasons and "2.8 answers/s" in reasons  # from its answering time


def test_prompt_token_limit(tmp_path):
    rec = recommend_from_run(load_run_results(RUN), Scenario(max_prompt_tokens=200))
    assert rec.verdict_of("rag").measured.status == "excluded"
    assert "310 prompt tokens per query exceed the 200 limit" in rec.verdict_of("rag").reasons[0]


def test_constraints_from_rules_rule_out_measured_strategies():
    rec = recommend_from_run(load_run_results(RUN), Scenario(training_allowed=False))
    assert rec.approach == "rag"
    for trained in ("sft", "sft+rag", "cpt", "scratch"):
        verdict = rec.verdict_of(trained)
        assert verdict.measured.status == "excluded"
        assert "rule training-forbidden" in verdict.reasons[0]


def test_lowest_latency_goal_orders_by_measured_latency(tmp_path):
    def tie(data):
        for name in ("rag", "sft", "sft+rag"):
            data["strategies"][name]["overall"]["score"]["mean"] = 0.70

    rec = recommend_from_run(
        load_run_results(_edited_run(tmp_path, RUN, tie)), Scenario(goal="lowest_latency")
    )
    assert rec.approach == "sft"  # p95 0.90 s against 1.90 and 2.10
    assert "lowest measured per-query latency (p95)" in rec.evidence.cost_basis


def test_unmeasured_approaches_are_never_recommended():
    rec = recommend_from_run(
        load_run_results(RUN), Scenario(labeled_examples=50_000, compute="cluster")
    )
    full = rec.verdict_of("full_ft")
    assert full.measured is None and full.verdict != RECOMMENDED
    assert "Not measured in this run" in full.reasons[0]


def _with_full_ft(data):
    """The run as it would be with full_ft and full_ft+rag measured beside sft."""
    import copy

    for name, base, mean in (("full_ft", "sft", 0.50), ("full_ft+rag", "sft+rag", 0.74)):
        entry = copy.deepcopy(data["strategies"][base])
        entry["overall"]["score"]["mean"] = mean
        entry["cost"]["train_time_s"] = 900.0
        entry["cost"]["saved_mb"] = 513.0
        data["strategies"][name] = entry


def test_a_measured_full_fine_tune_is_read_like_any_other_strategy(tmp_path):
    results = load_run_results(_edited_run(tmp_path, RUN, _with_full_ft))
    rec = recommend_from_run(results, Scenario(labeled_examples=50_000, compute="cluster"))
    full = rec.verdict_of("full_ft")
    assert full.measured is not None and full.measured.mean == pytest.approx(0.50)
    assert not any("Not measured" in reason for reason in full.reasons)
    assert "full_ft scores 0.50" in full.reasons[0]
    assert full.rules  # the rules that spoke for and against full fine-tuning still shown
    both = rec.verdict_of("full_ft+rag")
    assert both.measured is not None and both.label == "RAG + full fine-tuning"
    assert {r.id for r in both.rules} == {r.id for r in full.rules}  # judged by full_ft's rules
    # 0.74 against sft+rag's 0.73: inside the band, and a LoRA adapter is the cheaper build
    assert rec.approach == "rag" and both.verdict == VIABLE


def test_rules_that_veto_full_fine_tuning_rule_out_full_ft_with_retrieval_too(tmp_path):
    results = load_run_results(_edited_run(tmp_path, RUN, _with_full_ft))
    rec = recommend_from_run(results, Scenario(training_allowed=False))
    for name in ("full_ft", "full_ft+rag"):
        assert rec.verdict_of(name).measured.status == "excluded"
        assert "rule training-forbidden" in rec.verdict_of(name).reasons[0]


def test_no_allowed_strategy_falls_back_to_the_rules(tmp_path):
    rec = recommend_from_run(load_run_results(RUN), Scenario(max_latency_s=0.1))
    assert rec.evidence.chosen is None
    assert any("No measured strategy meets the constraints" in n for n in rec.notes)


def test_kinds_quoted_follow_the_scenario():
    rec = recommend_from_run(
        load_run_results(RUN), Scenario(knowledge_changes="weekly", knowledge="private")
    )
    assert any(r.startswith("on drift items 0.78 ± 0.02") for r in rec.top.reasons)


def test_what_would_change_is_stated_in_measurements():
    rec = recommend_from_run(load_run_results(RUN))
    assert rec.top.would_change[0].startswith(
        "sft+rag would be chosen if its lead (0.02) grew beyond"
    )
    assert "sft+rag would be chosen if rag were ruled out" in rec.top.would_change
    assert rec.verdict_of("sft").would_change == (
        "needs 0.25 more score to come within the noise band of sft+rag",
    )


# ---------------------------------------------------------------- paired tests


def _paired(*tests):
    """A `paired` section as the harness writes it: (a, b, diff, low, high, p) bootstrap entries."""

    def edit(data):
        data["paired"] = {
            "metric": "score",
            "alpha": 0.05,
            "bootstrap_resamples": 10000,
            "bootstrap_seed": 0,
            "tests": [
                {
                    "a": a,
                    "b": b,
                    "test": "bootstrap",
                    "metric": "score",
                    "diff": diff,
                    "ci": [low, high],
                    "p": p,
                    "n_items": 124,
                    "n_seeds": 3,
                    "resamples": 10000,
                }
                for a, b, diff, low, high, p in tests
            ],
        }

    return edit


# sft+rag beats rag on almost every item by a little: a real lead the seed stds hide
CONSISTENT_LEAD = _paired(
    ("sft+rag", "rag", 0.02, 0.01, 0.03, 0.002), ("sft+rag", "sft", 0.28, 0.22, 0.34, 0.0)
)


def test_a_consistent_paired_lead_beats_the_seed_band(tmp_path):
    # by the seed stds rag (0.71) is within 0.03 of sft+rag (0.73); item by item it is behind
    results = load_run_results(_edited_run(tmp_path, RUN, CONSISTENT_LEAD))
    rec = recommend_from_run(results)
    assert rec.approach == "sft+rag"
    rag = rec.verdict_of("rag")
    assert rag.verdict == NOT_ADVISED and rag.measured.status == "below band"
    assert (
        "a paired bootstrap over 124 items × 3 seeds finds sft+rag ahead "
        "(sft+rag − rag +0.02, 95% CI +0.01 to +0.03, p = 0.002)" in rag.reasons[0]
    )
    assert rag.measured.band_basis == "a paired bootstrap over 124 items × 3 seeds"
    assert rag.measured.versus.diff == pytest.approx(-0.02)  # rag − sft+rag
    assert "against the next best, rag: a paired bootstrap" in rec.top.reasons[0]
    # with rag ruled out (latency), the next best allowed is sft
    slow = recommend_from_run(results, Scenario(max_latency_s=2.15, max_prompt_tokens=300))
    assert slow.approach == "sft+rag"
    assert "against the next best, sft: a paired bootstrap" in slow.top.reasons[0]


def test_a_paired_test_that_finds_no_difference_keeps_the_cheaper_strategy(tmp_path):
    def wide_gap_but_noisy(data):
        data["strategies"]["sft+rag"]["overall"]["score"]["mean"] = 0.80  # 0.09 ahead of rag
        _paired(("sft+rag", "rag", 0.09, -0.01, 0.19, 0.08))(data)

    results = load_run_results(_edited_run(tmp_path, RUN, wide_gap_but_noisy))
    rec = recommend_from_run(results)
    # the seed band (0.03) alone would hand it to sft+rag; the paired test finds no difference
    assert rec.approach == "rag" and rec.verdict_of("sft+rag").verdict == VIABLE
    why = rec.top.reasons[0]
    assert "0.09 apart, and a paired bootstrap over 124 items × 3 seeds finds no difference" in why
    assert "(sft+rag − rag +0.09, 95% CI -0.01 to +0.19, p = 0.080)" in why
    assert rec.top.would_change[0] == (
        "sft+rag would be chosen if the paired test found its lead real: +0.09 now "
        "(95% CI -0.01 to +0.19); a lead above about 0.10 (the interval's half-width) on "
        "these 124 items, or the same lead on more items or seeds"
    )


def test_what_would_change_a_strategy_behind_uses_the_paired_interval(tmp_path):
    rec = recommend_from_run(load_run_results(_edited_run(tmp_path, RUN, CONSISTENT_LEAD)))
    # 0.28 behind with a half-width of 0.06: about 0.22 more brings the interval to zero
    assert rec.verdict_of("sft").would_change == (
        "needs about 0.22 more score for the paired test to find no difference from sft+rag "
        "(behind by 0.28 now, 95% CI 0.22 to 0.34)",
    )


def test_pairs_the_run_lacks_fall_back_to_the_seed_band(tmp_path):
    rec = recommend_from_run(load_run_results(_edited_run(tmp_path, RUN, CONSISTENT_LEAD)))
    fewshot = rec.verdict_of("fewshot")
    assert fewshot.measured.versus is None and fewshot.measured.band_basis == "std over 3 seeds"
    assert "outside the noise band (0.01)" in fewshot.reasons[0]


def test_a_run_without_paired_tests_says_so():
    rec = recommend_from_run(load_run_results(RUN))
    assert rec.evidence.band_note.endswith("(this run has no paired tests).")
    assert all(v.measured is None or v.measured.versus is None for v in rec.ranking)


def test_mcnemar_entries_are_read_and_named(tmp_path):
    def mcnemar(data):
        data["paired"] = {
            "tests": [
                {
                    "a": "sft+rag",
                    "b": "rag",
                    "test": "mcnemar",
                    "diff": 0.02,
                    "ci": [-0.02, 0.06],
                    "p": 0.45,
                    "n_items": 124,
                    "n_seeds": 1,
                    "discordant": [7, 4],
                }
            ]
        }

    rec = recommend_from_run(load_run_results(_edited_run(tmp_path, SINGLE, mcnemar)))
    assert rec.approach == "rag"
    assert (
        "McNemar's exact test over 124 items (7 vs 4 items only one of the two got right) "
        "finds no difference" in rec.top.reasons[0]
    )
    assert "McNemar's exact test (0/1 scores)" in rec.evidence.band_note


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("not a list", "paired.tests"),
        (["nope"], "paired.tests[0]"),
        ([{"a": "rag", "b": "sft", "test": "t-test"}], "paired.tests[0]"),
    ],
)
def test_a_damaged_paired_section_is_named(tmp_path, entry, field):
    from advisor.errors import AdvisorError

    def damage(data):
        data["paired"] = {"tests": entry}

    with pytest.raises(AdvisorError) as caught:
        load_run_results(_edited_run(tmp_path, RUN, damage))
    assert caught.value.field == field and str(caught.value.file).endswith("scores.json")


# ---------------------------------------------------------------- what the run did not measure


def test_an_unmeasured_full_fine_tune_says_how_to_measure_it():
    from advisor.decision.report import why_cell

    rec = recommend_from_run(load_run_results(RUN))
    full = rec.verdict_of("full_ft")
    command = (
        "advisor compare --task banking -s prompt,fewshot,rag,sft,sft+rag,cpt,scratch,full_ft "
        "--seeds 0,1,2"
    )
    assert full.reasons[0].startswith(
        "Not measured in this run: the standard profile leaves full_ft out of the default "
        f"strategies to keep its time and memory targets. Measure it with `{command}`"
    )
    assert full.would_change[0] == f"measured: `{command}`, then recommend from that run"
    assert why_cell(full).startswith(
        "not measured: not in the standard profile; `-s …,full_ft` measures it"
    )
    # the classifiers serve classification tasks only: no command for them on banking
    supervised = rec.verdict_of("supervised")
    assert supervised.reasons[0].startswith(
        "Not measured: the harness runs supervised on classification tasks, and this one is "
        "generation"
    )
    assert why_cell(supervised).startswith("not measured") and "-s" not in why_cell(supervised)
