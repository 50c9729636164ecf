"""The scores a run writes (`scores.json`) and the reader everyone else uses.

`scores.json` schema (version 1):

    {
      "schema": 1,
      "run_id": "20261125-163000-banking-1a2b3c4d",
      "task": "banking", "task_version": 1,
      "primary_metric": "score",
      "seeds": [0],
      "device": {"device": "cpu", "dtype": "float32", ...},
      "hourly_usd": 0.10,          # the price the cost figures use
      "strategies": {
        "rag": {
          "n_items": 124,
          "seeds": [0],
          "overall": {"score": {"mean": 0.71, "std": 0.0, "n": 1}, "fact_recall": {...}, ...},
          "by_kind": {"seen": {"score": {...}, ...}, "unseen": {...}, ...},
          "cost": {"train_time_s": 0.0, "prepare_time_s": 3.1, "peak_memory_mb": 2100.0,
                   "answer_time_s": 23.4, "prompt_tokens": 310.0, "output_tokens": 31.0,
                   "answers_per_s": 5.3, "answer_tokens_per_s": 164.0, "batch_size": 64,
                   "latency_p50_s": 1.7, "latency_p95_s": 1.9, "latency_n": 8,
                   "cost_per_1k_queries_usd": 0.01, "train_cost_usd": 0.0}
        }
      },
      "learning_curve": {"sft": {"50": {"score": ..., "by_kind": {...}}, ...}},  # optional
      "paired": {                                                                # optional
        "metric": "score", "alpha": 0.05, "bootstrap_resamples": 10000, "bootstrap_seed": 0,
        "tests": [{"a": "rag", "b": "sft", "test": "bootstrap", "metric": "score",
                   "diff": 0.26, "ci": [0.19, 0.33], "p": 0.0, "n_items": 124, "n_seeds": 3,
                   "resamples": 10000}, ...]   # McNemar adds "discordant": [a only, b only]
      }
    }

`mean` and `std` are over seeds (std 0 with one seed); `n` is how many seeds.
Metrics are higher-is-better except those in `LOWER_IS_BETTER`. `paired` holds
every pair of strategies compared item by item (benchmarks/significance.py);
runs written before it existed lack it, and the decision engine then falls back
to a band from the std over seeds.

Throughput (`answers_per_s`, `answer_tokens_per_s`) is over the whole answering
pass at `batch_size`; the cost per 1,000 queries comes from it. Per-query latency
(`latency_p50_s`, `latency_p95_s` over `latency_n` questions) is each question
answered alone (`benchmarks.latency`). Runs made before these were recorded have
a `latency_s` instead — the wall time of the batch an answer came from — which
nothing reads as a latency.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.fileio import read_text
from benchmarks.significance import PairedTest

SCHEMA_VERSION = 1
LOWER_IS_BETTER = frozenset(
    {
        "hallucinated_numbers",
        "stale",
        "false_decline",
        "latency_s",  # runs made before per-query latency: a batch's wall time
        "latency_p50_s",
        "latency_p95_s",
        "prompt_tokens",
        "output_tokens",
    }
)


@dataclass(frozen=True)
class Stat:
    mean: float
    std: float = 0.0
    n: int = 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stat:
        return cls(
            mean=float(data["mean"]), std=float(data.get("std", 0.0)), n=int(data.get("n", 1))
        )


@dataclass(frozen=True)
class StrategyResult:
    name: str
    n_items: int
    seeds: tuple[int, ...]
    overall: dict[str, Stat]
    by_kind: dict[str, dict[str, Stat]]
    cost: dict[str, float]

    @property
    def score(self) -> Stat:
        return self.overall["score"]


@dataclass(frozen=True)
class RunResults:
    path: Path
    run_id: str
    task: str
    primary_metric: str
    strategies: dict[str, StrategyResult]
    learning_curve: dict[str, Any] = field(default_factory=dict)
    task_type: str = "generation"
    not_scored: dict[str, Any] = field(default_factory=dict)
    paired: dict[tuple[str, str], PairedTest] = field(default_factory=dict)
    device_type: str = "cpu"  # cpu | cuda: which hourly price applies
    hourly_usd: float | None = None  # the price the run's cost figures used (older runs: None)

    def best(self) -> StrategyResult:
        return max(self.strategies.values(), key=lambda r: r.score.mean)

    def paired_test(self, a: str, b: str) -> PairedTest | None:
        """`a` against `b` item by item (diff = a − b), or None where the run has no such test."""
        if (a, b) in self.paired:
            return self.paired[(a, b)]
        if (b, a) in self.paired:
            return self.paired[(b, a)].flipped()
        return None


def _stats(data: dict[str, Any]) -> dict[str, Stat]:
    return {name: Stat.from_json(value) for name, value in data.items() if isinstance(value, dict)}


def _damaged(path: Path, where: str, message: str) -> AdvisorError:
    return AdvisorError(
        message,
        file=path,
        field=where,
        hint="the file was changed by hand or damaged; run the benchmark again",
    )


def _mapping(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _damaged(path, key, f"expected an object, got {type(value).__name__}")
    return value


def load_run_results(path: str | Path) -> RunResults:
    """Read a run folder (or its scores.json). Raises `AdvisorError` if it is not one."""
    path = Path(path)
    scores_path = path / "scores.json" if path.is_dir() else path
    if not scores_path.is_file():
        raise AdvisorError(
            "no scores.json here: not a finished benchmark run",
            file=path,
            hint="pass a folder under runs/ written by `advisor compare`",
        )
    try:
        data = json.loads(read_text(scores_path, what="scores file"))
    except json.JSONDecodeError as exc:
        raise AdvisorError(
            f"malformed JSON ({exc.msg})", file=scores_path, line=exc.lineno
        ) from None
    if not isinstance(data, dict):
        raise AdvisorError("expected a JSON object", file=scores_path)
    if data.get("schema") != SCHEMA_VERSION:
        raise AdvisorError(
            f"unsupported scores schema {data.get('schema')!r}", file=scores_path, field="schema"
        )
    strategies = {}
    for name, entry in _mapping(data, "strategies", scores_path).items():
        where = f"strategies.{name}"
        if not isinstance(entry, dict):
            raise _damaged(scores_path, where, "expected an object")
        try:
            score = entry.get("overall", {}).get("score")
            if not isinstance(score, dict) or not math.isfinite(float(score["mean"])):
                raise _damaged(scores_path, f"{where}.overall.score", "expected a finite mean")
            strategies[name] = StrategyResult(
                name=name,
                n_items=int(entry.get("n_items", 0)),
                seeds=tuple(entry.get("seeds", ())),
                overall=_stats(entry.get("overall", {})),
                by_kind={kind: _stats(values) for kind, values in entry.get("by_kind", {}).items()},
                cost={k: float(v) for k, v in entry.get("cost", {}).items() if v is not None},
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _damaged(scores_path, where, f"not in the scores format ({exc!r})") from None
    if not strategies:
        raise AdvisorError("the run scored no strategies", file=scores_path, field="strategies")
    primary = str(data.get("primary_metric", "score"))
    paired = _paired_tests(_mapping(data, "paired", scores_path), primary, scores_path)
    return RunResults(
        path=scores_path.parent,
        run_id=str(data.get("run_id", scores_path.parent.name)),
        task=str(data.get("task", "")),
        primary_metric=primary,
        strategies=strategies,
        learning_curve=_mapping(data, "learning_curve", scores_path),
        task_type=str(data.get("task_type", "generation")),
        not_scored=_mapping(data, "not_scored", scores_path),
        paired=paired,
        device_type=_device_type(data),
        hourly_usd=_hourly(data),
    )


def _paired_tests(
    data: dict[str, Any], metric: str, path: Path
) -> dict[tuple[str, str], PairedTest]:
    """The run's paired tests on its primary metric, keyed by (a, b)."""
    tests = data.get("tests", [])
    if not isinstance(tests, list):
        raise _damaged(path, "paired.tests", f"expected a list, got {type(tests).__name__}")
    out = {}
    for n, entry in enumerate(tests):
        try:
            if not isinstance(entry, dict):
                raise TypeError("expected an object")
            test = PairedTest.from_json(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise _damaged(path, f"paired.tests[{n}]", f"not a paired test ({exc!r})") from None
        if test.metric == metric:
            out[(test.a, test.b)] = test
    return out


def _device_type(data: dict[str, Any]) -> str:
    device = data.get("device")
    name = device.get("device", "cpu") if isinstance(device, dict) else "cpu"
    return str(name).split(":")[0] or "cpu"


def _hourly(data: dict[str, Any]) -> float | None:
    value = data.get("hourly_usd")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) if value >= 0 else None
    return None
