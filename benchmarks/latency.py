"""Per-query latency, measured the way a user meets it, and throughput at the run's batch size.

The harness answers the test set in batches (`generation.batch_size`). The wall
time of a batch says how fast a strategy gets through a queue of questions — its
throughput — not how long one person waits for one answer: a batch of 64 that
takes 12 s is 5.3 answers per second, not a 12-second answer. So the two are
measured apart:

- **throughput**: answers (and answer tokens) per second over the whole
  answering pass, at the run's batch size. The cost per 1,000 queries comes
  from it.
- **per-query latency**: after a unit has answered, a seeded sample of its
  questions (`generation.latency_sample`) is answered again, each alone,
  through the strategy's own `answer([question])`, and the wall time of each
  call is that question's latency. The tables show p50 and p95 over the
  sample; the decision engine's `max_latency_s` reads p95.

The sample is small (4 by default) because every question in it costs a whole
single-stream generation: 4 to 10 s each for SmolLM2-135M on a 2-core CPU in
fp32, where a single stream reads every weight once per token. 8 questions
took 44 to 93 s per strategy there (6 minutes of a standard run), 4 take half.
p95 of 4 values lies between the two longest, close to their maximum, which is
what a latency budget should be held to; raise the sample for a tighter p50.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# the latency record's keys in a unit's prepare.json (strategies/<unit>/prepare.json)
SAMPLES = "samples_s"


def sample_questions(questions: Sequence[str], n: int, seed: int) -> list[str]:
    """`n` of the questions (all of them when there are fewer), the same ones for the
    same seed: two strategies of one seed are timed on the same questions."""
    if n <= 0 or not questions:
        return []
    picked = sorted(random.Random(seed).sample(range(len(questions)), min(n, len(questions))))
    return [questions[i] for i in picked]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between the closest
    ranks (numpy's default), so p50 of an even count is the mean of the middle two."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise_latency(samples: Sequence[float]) -> dict[str, float]:
    """{latency_p50_s, latency_p95_s, latency_n} for the cost table; {} with no samples."""
    if not samples:
        return {}
    return {
        "latency_p50_s": round(percentile(samples, 50), 4),
        "latency_p95_s": round(percentile(samples, 95), 4),
        "latency_n": len(samples),
    }


def measure_latency(
    answer: Callable[[list[str]], Sequence[Any]],
    questions: Sequence[str],
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Answer each question alone and time each call: the record kept in prepare.json."""
    samples = []
    for question in questions:
        began = clock()
        answer([question])
        samples.append(round(clock() - began, 5))
    return {SAMPLES: samples, **summarise_latency(samples)}


def measure_unit_latency(
    strategy: Any,
    questions: Sequence[str],
    n: int,
    seed: int,
    advance: Callable[[int, dict[str, Any]], None] = lambda n, fields: None,
) -> dict[str, Any] | None:
    """The per-query latency of a prepared strategy on `n` seeded questions, or None
    when the sample is off (`generation.latency_sample: 0`)."""
    picked = sample_questions(questions, n, seed)
    if not picked:
        return None

    def one(batch: list[str]) -> Sequence[Any]:
        answers = strategy.answer(batch)
        advance(1, {})
        return answers

    return measure_latency(one, picked)


def throughput(n_answers: int, answer_tokens: float, wall_s: float) -> dict[str, float]:
    """{answers_per_s, answer_tokens_per_s} over an answering pass; {} when it took no
    measurable time (a classifier answering in microseconds rounds to zero)."""
    if wall_s <= 0 or n_answers <= 0:
        return {}
    return {
        "answers_per_s": round(n_answers / wall_s, 4),
        "answer_tokens_per_s": round(answer_tokens / wall_s, 2),
    }


def cost_figures(units: Sequence[Any], batch_size: int) -> dict[str, float]:
    """Throughput (mean over seeds) and per-query latency (every seed's samples pooled)
    for one strategy's units (`harness.UnitResult`s)."""
    passes = [
        throughput(len(u.rows), sum(r["output_tokens"] for r in u.rows), u.answer_time_s)
        for u in units
    ]
    figures: dict[str, float] = {}
    for key in ("answers_per_s", "answer_tokens_per_s"):
        values = [p[key] for p in passes if key in p]
        if len(values) == len(passes) and values:
            figures[key] = round(statistics.fmean(values), 4)
    if figures:
        figures["batch_size"] = batch_size
    pooled = [s for u in units for s in ((u.latency or {}).get(SAMPLES) or ())]
    return figures | summarise_latency(pooled)


def answering_batch_size(batch_size: int, is_cuda: bool) -> int:
    """The batch the generator really runs: `generation.batch_size`, doubled on a GPU
    (as `strategies.prompting` does)."""
    return batch_size * (2 if is_cuda else 1)


# ---------------------------------------------------------------- reading a cost dict


def answers_per_second(cost: Mapping[str, float], n_items: int = 0) -> float | None:
    """Throughput from a strategy's cost: the recorded figure, else (a run made before
    it was recorded) the answering time over the items; None when neither is there."""
    if cost.get("answers_per_s"):
        return float(cost["answers_per_s"])
    answer_time = cost.get("answer_time_s")
    if answer_time and n_items > 0:
        return n_items / answer_time
    return None


def query_latency_s(cost: Mapping[str, float]) -> float | None:
    """The per-query latency a latency budget is held to: p95 of single questions.
    None for a run that did not measure it (made before it was, or with the sample off):
    such a run's `latency_s` is a batch's wall time and is never read as a latency."""
    value = cost.get("latency_p95_s")
    return None if value is None else float(value)
