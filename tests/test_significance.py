"""Paired significance on constructed cases: identical strategies, one strategy
right wherever the other is wrong, continuous scores, several seeds."""

from __future__ import annotations

import math

import pytest

from benchmarks.significance import (
    BOOTSTRAP,
    MCNEMAR,
    PairedTest,
    all_pairs,
    compare_pair,
    item_scores,
    mcnemar_exact_p,
    paired_bootstrap,
)


def _one_seed(values):
    return {0: {f"q{n}": v for n, v in enumerate(values)}}


def test_identical_strategies_show_no_difference():
    scores = _one_seed([0.0, 0.5, 1.0, 0.25, 0.75] * 8)
    test = compare_pair("a", scores, "b", scores)
    assert test.test == BOOTSTRAP
    assert (test.diff, test.ci_low, test.ci_high, test.p) == (0.0, 0.0, 0.0, 1.0)
    assert not test.significant


def test_identical_right_and_wrong_answers_show_no_difference_by_mcnemar():
    scores = _one_seed([1.0, 0.0, 1.0, 1.0, 0.0] * 8)
    test = compare_pair("a", scores, "b", scores)
    assert test.test == MCNEMAR and (test.a_only, test.b_only) == (0, 0)
    assert test.p == 1.0 and not test.significant


def test_right_on_every_item_the_other_misses_is_significant():
    # both right on 10 items; a also right on the 12 items b misses
    a = _one_seed([1.0] * 22)
    b = _one_seed([1.0] * 10 + [0.0] * 12)
    test = compare_pair("a", a, "b", b)
    assert test.test == MCNEMAR and (test.a_only, test.b_only) == (12, 0)
    assert test.p == pytest.approx(2 * 0.5**12)
    assert test.significant and test.diff == pytest.approx(12 / 22)
    assert test.ci_low > 0


def test_a_few_discordant_items_are_not_enough():
    # 3 items only a gets right, 1 only b: 2 / 16 ways out of 16 as extreme, p = 0.625
    a = _one_seed([1.0, 1.0, 1.0, 0.0] + [1.0] * 20)
    b = _one_seed([0.0, 0.0, 0.0, 1.0] + [1.0] * 20)
    test = compare_pair("a", a, "b", b)
    assert test.p == pytest.approx(0.625) and not test.significant


def test_mcnemar_matches_the_binomial_test():
    scipy_stats = pytest.importorskip("scipy.stats")
    for a_only, b_only in ((0, 0), (1, 0), (7, 2), (30, 18), (3, 40)):
        expected = (
            1.0
            if a_only + b_only == 0
            else scipy_stats.binomtest(a_only, a_only + b_only, 0.5).pvalue
        )
        assert mcnemar_exact_p(a_only, b_only) == pytest.approx(expected)


def test_continuous_scores_use_the_bootstrap():
    # b is a's fact recall minus 0.2 on every item: a constant lead, no doubt about it
    a = _one_seed([0.5, 0.75, 1.0, 0.6, 0.9] * 10)
    b = _one_seed([0.3, 0.55, 0.8, 0.4, 0.7] * 10)
    test = compare_pair("a", a, "b", b)
    assert test.test == BOOTSTRAP and test.diff == pytest.approx(0.2)
    assert test.ci_low == pytest.approx(0.2) and test.ci_high == pytest.approx(0.2)
    assert test.significant and test.p == 0.0


def test_a_noisy_small_gap_is_not_significant():
    # a leads by 0.5 on two items and trails by 0.5 on one of 30: mean 0.017
    a = _one_seed([0.5] * 27 + [1.0, 1.0, 0.0])
    b = _one_seed([0.5] * 27 + [0.5, 0.5, 0.5])
    test = compare_pair("a", a, "b", b)
    assert test.diff == pytest.approx(0.5 / 30)
    assert test.ci_low < 0 < test.ci_high and not test.significant


def test_several_seeds_resample_seeds_and_pair_on_seed_and_item():
    a = {s: {f"q{n}": 1.0 for n in range(20)} for s in range(3)}
    b = {s: {f"q{n}": 0.0 if n < 10 else 1.0 for n in range(20)} for s in range(3)}
    test = compare_pair("a", a, "b", b)
    # 0/1 scores, but over seeds: the bootstrap, not McNemar (seeds repeat the same items)
    assert test.test == BOOTSTRAP and (test.n_seeds, test.n_items) == (3, 20)
    assert test.diff == pytest.approx(0.5) and test.significant
    # a seed where the gap disappears widens the interval
    b_varied = {**b, 2: dict(a[2])}
    wider = compare_pair("a", a, "b", b_varied)
    assert wider.half_width > test.half_width


def test_items_missing_on_either_side_are_left_out():
    a = {0: {"q1": 1.0, "q2": None, "q3": 0.5}}
    b = {0: {"q1": 0.5, "q2": 0.0, "q4": 0.5}}
    test = compare_pair("a", a, "b", b)
    assert test.n_items == 1 and test.diff == pytest.approx(0.5)
    assert compare_pair("a", {0: {"q1": None}}, "b", b) is None


def test_the_bootstrap_is_seeded():
    grid = [[0.1, -0.2, 0.3, 0.0, 0.25, -0.05, 0.4]]
    assert paired_bootstrap(grid) == paired_bootstrap(grid)
    assert paired_bootstrap(grid, seed=1) != paired_bootstrap(grid)


def test_flipped_and_round_trip_through_json():
    a = _one_seed([1.0] * 22)
    b = _one_seed([1.0] * 10 + [0.0] * 12)
    test = compare_pair("a", a, "b", b)
    back = PairedTest.from_json(test.to_json())
    assert back.a == "a" and back.a_only == 12 and back.p == pytest.approx(test.p, rel=1e-3)
    flipped = test.flipped()
    assert (flipped.a, flipped.diff, flipped.a_only) == ("b", -test.diff, 0)
    assert flipped.ci_high == -test.ci_low


def test_item_scores_and_all_pairs_from_harness_rows():
    rows = [
        {"id": "q1", "score": 1.0},
        {"id": "q2", "score": None},
        {"id": "q3", "score": math.nan},
    ]
    assert item_scores({0: rows}) == {0: {"q1": 1.0, "q2": None, "q3": None}}
    scores = {name: _one_seed([v] * 5) for name, v in (("x", 1.0), ("y", 0.0), ("z", 1.0))}
    assert [(t.a, t.b) for t in all_pairs(scores)] == [("x", "y"), ("x", "z"), ("y", "z")]
