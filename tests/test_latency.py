"""Per-query latency and throughput arithmetic (benchmarks.latency), on constructed figures."""

from __future__ import annotations

import itertools

import pytest

from benchmarks.latency import (
    answers_per_second,
    measure_latency,
    percentile,
    query_latency_s,
    sample_questions,
    summarise_latency,
    throughput,
)


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 4.0
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_the_sample_is_seeded_capped_and_can_be_off() -> None:
    questions = [f"q{i}" for i in range(20)]
    picked = sample_questions(questions, 5, seed=0)
    assert len(set(picked)) == 5 and set(picked) <= set(questions)
    assert sample_questions(questions, 5, seed=0) == picked
    assert sample_questions(questions, 5, seed=1) != picked
    assert sample_questions(questions[:3], 8, seed=0) == questions[:3]
    assert sample_questions(questions, 0, seed=0) == []


def test_each_question_is_answered_alone_and_timed_by_the_clock() -> None:
    ticks = itertools.accumulate([0.0, 1.0, 0.5, 3.0, 0.5, 2.0, 0.5])  # start, end, start, ...
    clock = iter(ticks).__next__
    asked = []
    record = measure_latency(lambda batch: asked.append(batch) or ["x"], ["a", "b", "c"], clock)
    assert asked == [["a"], ["b"], ["c"]]
    assert record["samples_s"] == [1.0, 3.0, 2.0]
    assert record["latency_p50_s"] == 2.0 and record["latency_p95_s"] == pytest.approx(2.9)
    assert record["latency_n"] == 3
    assert summarise_latency([]) == {}


def test_throughput_is_answers_and_tokens_over_the_answering_time() -> None:
    assert throughput(64, 1920, 12.0) == {
        "answers_per_s": pytest.approx(5.3333),
        "answer_tokens_per_s": 160.0,
    }
    assert throughput(10, 0, 0.0) == {}  # too fast to time: no figure, no division by zero


def test_an_old_cost_record_gives_throughput_from_its_time_and_no_latency() -> None:
    old = {"latency_s": 12.4, "answer_time_s": 24.8, "cost_per_1k_queries_usd": 0.01}
    assert answers_per_second(old, n_items=124) == pytest.approx(5.0)
    assert query_latency_s(old) is None  # a batch's wall time is never read as a latency
    assert answers_per_second({"latency_s": 1.0}, n_items=124) is None
    new = {"answers_per_s": 6.0, "answer_time_s": 1.0, "latency_p95_s": 1.9}
    assert answers_per_second(new, 124) == 6.0 and query_latency_s(new) == 1.9
