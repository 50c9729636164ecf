"""The harness on a tiny model: run folders, scores, resume after an interruption, repeatability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.config import RunConfig, merge
from benchmarks.harness import Harness
from benchmarks.results import load_run_results
from strategies import registry
from strategies.prompting import PromptStrategy
from tiny import cpu_device, tiny_provider, write_tiny_task


def _config(tmp_path: Path, strategies: list[str], **extra) -> RunConfig:
    task = (
        write_tiny_task(tmp_path / "task")
        if not (tmp_path / "task").exists()
        else tmp_path / "task"
    )
    data = {
        "task": str(task),
        "strategies": strategies,
        "runs_dir": str(tmp_path / "runs"),
        "generation": {"max_new_tokens": 6, "batch_size": 1},
        **extra,
    }
    return merge(RunConfig(), data)


def _harness(config: RunConfig, **kwargs) -> Harness:
    return Harness(config, models=tiny_provider(), device=cpu_device(), **kwargs)


def test_run_folder_holds_everything_needed_to_reproduce(tmp_path: Path) -> None:
    outcome = _harness(_config(tmp_path, ["prompt", "rag"])).run()
    run = outcome.run_dir
    assert run.parent == tmp_path / "runs" and run.name.split("-")[2] == "tiny"
    for name in (
        "config.yaml",
        "manifest.json",
        "answers.jsonl",
        "scores.json",
        "scores.csv",
        "item_scores.csv",
    ):
        assert (run / name).is_file(), name
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seeds"] == [0]
    assert set(manifest["task"]["files"]) >= {
        "task.yaml",
        "train.jsonl",
        "test.jsonl",
        "corpus/cards.md",
        "corpus_v2/cards.md",
    }
    assert manifest["device"]["device"] == "cpu" and manifest["versions"]["torch"]
    assert "commit" in manifest["git"] and "dirty" in manifest["git"]
    answers = [json.loads(line) for line in (run / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 2 * 6
    assert all(a["citations"] for a in answers if a["strategy"] == "rag")
    results = load_run_results(run)
    assert set(results.strategies) == {"prompt", "rag"}
    rag = results.strategies["rag"]
    assert rag.n_items == 6 and set(rag.by_kind) == {
        "seen",
        "unseen",
        "style",
        "out_of_scope",
        "drift",
    }
    assert (
        "retrieval_recall" in rag.overall
        and "retrieval_recall" not in results.strategies["prompt"].overall
    )
    assert rag.cost["cost_per_1k_queries_usd"] >= 0 and rag.cost["peak_memory_mb"] > 0


def test_rag_retrieves_from_the_corpus_after_drift(tmp_path: Path) -> None:
    outcome = _harness(_config(tmp_path, ["rag"], rag={"top_k": 3})).run()
    answers = [
        json.loads(line) for line in (outcome.run_dir / "answers.jsonl").read_text().splitlines()
    ]
    drift = next(a for a in answers if a["kind"] == "drift")
    cited = " ".join(c["text"] for c in drift["citations"])
    assert "Q7.50" in cited and "Q5.00 for" not in cited


def test_same_config_and_seed_give_the_same_scores(tmp_path: Path) -> None:
    config = _config(tmp_path, ["prompt", "fewshot"])
    first = _harness(config, resume=False).run()
    second = _harness(config, resume=False).run()
    assert first.run_dir != second.run_dir
    assert first.scores["strategies"].keys() == second.scores["strategies"].keys()
    for name in first.scores["strategies"]:
        assert (
            first.scores["strategies"][name]["overall"]["score"]
            == second.scores["strategies"][name]["overall"]["score"]
        )
    first_answers = (first.run_dir / "answers.jsonl").read_text().splitlines()
    second_answers = (second.run_dir / "answers.jsonl").read_text().splitlines()

    def strip(lines):
        return [
            {
                k: v
                for k, v in json.loads(x).items()
                if "time" not in k and "latency" not in k and k != "check"  # check: of timings too
            }
            for x in lines
        ]

    assert strip(first_answers) == strip(second_answers)


class PowerCut(KeyboardInterrupt):
    """An interruption the run cannot catch (an ordinary error is isolated and
    reported as a failed strategy instead; see the failure tests)."""


class FlakyStrategy(PromptStrategy):
    """The prompt strategy, interrupted once during its second chunk of questions."""

    name = "flaky"
    calls = 0
    failed = False

    def answer(self, questions):
        FlakyStrategy.calls += 1
        if FlakyStrategy.calls == 2 and not FlakyStrategy.failed:
            FlakyStrategy.failed = True
            raise PowerCut("the machine went down")
        return super().answer(questions)


def test_interrupted_run_resumes_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.REGISTRY, "flaky", "test_harness:FlakyStrategy")
    config = _config(tmp_path, ["flaky"])
    with pytest.raises(PowerCut):
        _harness(config).run()
    (run,) = (tmp_path / "runs").iterdir()
    partial = (run / "answers.jsonl").read_text().splitlines()
    assert len(partial) == 2  # the first chunk (batch 1 x 2) was saved before the failure
    assert json.loads((run / "manifest.json").read_text())["status"] == "running"

    batches = []
    original = FlakyStrategy.answer
    monkeypatch.setattr(
        FlakyStrategy, "answer", lambda self, qs: batches.append(list(qs)) or original(self, qs)
    )
    outcome = _harness(config).run()
    assert outcome.resumed and outcome.run_dir == run
    answered = [b for b in batches if len(b) == 2]  # chunks of batch 1 x 2
    assert sum(map(len, answered)) == 4  # only the unanswered items
    timed = [b for b in batches if len(b) == 1]  # then the latency sample, one at a time
    sample = RunConfig().generation.latency_sample  # the default sample, of 6 test items
    assert len(timed) == min(sample, 6) and batches[-len(timed) :] == timed
    lines = (run / "answers.jsonl").read_text().splitlines()
    assert lines[:2] == partial and len(lines) == 6
    assert json.loads((run / "manifest.json").read_text())["status"] == "complete"

    reference = _harness(_config(tmp_path, ["prompt"]), resume=False).run()

    def texts(path):
        return [json.loads(x)["answer"] for x in (path / "answers.jsonl").read_text().splitlines()]

    assert texts(run) == texts(reference.run_dir)


def test_limit_scores_only_the_first_items(tmp_path: Path) -> None:
    outcome = _harness(_config(tmp_path, ["prompt"], limit=2)).run()
    assert outcome.scores["strategies"]["prompt"]["n_items"] == 2


def test_several_seeds_report_mean_and_std(tmp_path: Path) -> None:
    outcome = _harness(_config(tmp_path, ["fewshot"], seeds=[0, 1])).run()
    score = outcome.scores["strategies"]["fewshot"]["overall"]["score"]
    assert score["n"] == 2 and score["std"] >= 0
    assert outcome.scores["strategies"]["fewshot"]["seeds"] == [0, 1]


def test_scores_hold_a_paired_test_of_the_strategies_on_the_same_items(tmp_path: Path) -> None:
    import csv

    outcome = _harness(_config(tmp_path, ["prompt", "rag"], seeds=[0, 1])).run()
    paired = outcome.scores["paired"]
    assert paired["metric"] == "score" and len(paired["tests"]) == 1
    test = load_run_results(outcome.run_dir).paired_test("rag", "prompt")
    assert test is not None and test.test == "bootstrap" and test.n_seeds == 2
    assert test.ci_low <= test.diff <= test.ci_high
    # the difference is the mean over (seed, item) of the per-item differences in item_scores.csv
    with (outcome.run_dir / "item_scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    score = {(r["strategy"], r["seed"], r["id"]): r["score"] for r in rows}
    diffs = [
        float(score[("rag", seed, item)]) - float(value)
        for (name, seed, item), value in score.items()
        if name == "prompt" and value and score[("rag", seed, item)]
    ]
    assert test.n_items * test.n_seeds == len(diffs)
    assert test.diff == pytest.approx(sum(diffs) / len(diffs), abs=1e-4)


def test_a_classification_run_is_compared_by_mcnemar_and_recommended_from(tmp_path: Path) -> None:
    from advisor.decision import recommend_from_run
    from tiny import write_tiny_classification_task

    task = write_tiny_classification_task(tmp_path / "intents")
    config = merge(
        RunConfig(),
        {
            "task": str(task),
            "strategies": ["prompt", "supervised"],
            "runs_dir": str(tmp_path / "runs"),
            "generation": {"batch_size": 4},
        },
    )
    outcome = _harness(config).run()
    results = load_run_results(outcome.run_dir)
    test = results.paired_test("supervised", "prompt")
    assert test is not None and test.test == "mcnemar" and test.n_seeds == 1
    rows = outcome.results
    right = {r.unit.strategy: {row["id"]: row["score"] for row in r.rows} for r in rows}
    only = sum(1 for i, v in right["supervised"].items() if v > right["prompt"][i])
    assert test.a_only == only
    rec = recommend_from_run(results)
    reasons = " ".join(r for v in rec.ranking for r in v.reasons)
    assert "McNemar's exact test over" in reasons
    assert "McNemar" in rec.evidence.band_note
    # how to measure what the run left out names the task as it was run: its folder
    full = rec.verdict_of("full_ft").reasons[0]
    assert f"`advisor compare --task {task} -s prompt,supervised,full_ft`" in full


def test_train_sizes_retrain_sft_on_subsets_and_report_the_curve_against_rag(
    tmp_path: Path,
) -> None:
    from rich.console import Console

    from advisor.display import examples_to_match, learning_curve_table

    config = _config(tmp_path, ["rag", "sft"], train_sizes=["2", "all"], sft={"max_steps": 2})
    outcome = _harness(config).run()
    curve = outcome.scores["learning_curve"]["sft"]
    assert set(curve) == {"2", "all"}
    assert curve["2"]["train_examples"] == 2
    assert curve["all"]["train_examples"] > 2
    assert curve["2"]["n_items"] == outcome.scores["strategies"]["rag"]["n_items"]
    assert (outcome.run_dir / "strategies" / "sft-seed0-n2" / "adapter").is_dir()

    reached = examples_to_match(outcome.scores)
    assert set(reached) <= {"seen", "unseen", "style", "out_of_scope", "drift"} and reached
    console = Console(width=100, record=True)
    console.print(learning_curve_table(outcome.scores))
    text = console.export_text()
    assert "sft within the noise band of RAG" in text and "rag (no training)" in text


# ---------------------------------------------------------------- skipped and failed strategies


class BrokenStrategy(PromptStrategy):
    """The prompt strategy, failing while it prepares (until `fixed`)."""

    name = "broken"
    fixed = False

    def prepare(self, ctx):
        if not BrokenStrategy.fixed:
            raise ValueError("the GPU caught fire")
        return super().prepare(ctx)


def test_a_strategy_that_cannot_run_is_skipped_with_its_reason(tmp_path: Path) -> None:
    from tiny import write_tiny_classification_task

    task = write_tiny_classification_task(tmp_path / "intents")  # no corpus
    config = merge(
        RunConfig(),
        {
            "task": str(task),
            "strategies": ["prompt", "cpt", "supervised"],
            "runs_dir": str(tmp_path / "runs"),
            "generation": {"batch_size": 4},
        },
    )
    outcome = _harness(config).run()
    assert set(outcome.scores["strategies"]) == {"prompt", "supervised"}
    skipped = outcome.scores["not_scored"]["cpt"]
    assert skipped["status"] == "skipped" and "needs a corpus" in skipped["reason"]
    assert json.loads((outcome.run_dir / "manifest.json").read_text())["status"] == "complete"


def test_the_classifiers_are_skipped_on_a_generation_task(tmp_path: Path) -> None:
    outcome = _harness(_config(tmp_path, ["prompt", "supervised", "embed"])).run()
    assert set(outcome.scores["strategies"]) == {"prompt"}
    for name in ("supervised", "embed"):
        assert "classification" in outcome.scores["not_scored"][name]["reason"]


def test_a_failing_strategy_is_reported_and_the_others_are_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.REGISTRY, "broken", "test_harness:BrokenStrategy")
    monkeypatch.setattr(BrokenStrategy, "fixed", False)
    config = _config(tmp_path, ["prompt", "broken", "fewshot"])
    outcome = _harness(config).run()
    assert set(outcome.scores["strategies"]) == {"prompt", "fewshot"}
    failed = outcome.scores["not_scored"]["broken"]
    assert failed == {
        "status": "failed",
        "reason": "ValueError: the GPU caught fire",
        "seeds": [0],
    }
    error_log = outcome.run_dir / "strategies" / "broken-seed0" / "error.log"
    assert "Traceback" in error_log.read_text() and "the GPU caught fire" in error_log.read_text()
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["failed_units"] == ["broken-seed0"]

    # the same command again retries only what failed, in the same run folder
    monkeypatch.setattr(BrokenStrategy, "fixed", True)
    again = _harness(config).run()
    assert again.resumed and again.run_dir == outcome.run_dir
    assert set(again.scores["strategies"]) == {"prompt", "broken", "fewshot"}
    assert json.loads((again.run_dir / "manifest.json").read_text())["status"] == "complete"


def test_nothing_scored_is_an_error_not_an_empty_table(tmp_path: Path) -> None:
    from advisor.errors import AdvisorError

    with pytest.raises(AdvisorError, match="no strategy could be scored"):
        _harness(_config(tmp_path, ["supervised"])).run()


def test_lengths_come_from_the_task(tmp_path: Path) -> None:
    config = _config(tmp_path, ["prompt"], generation={"max_new_tokens": 0, "batch_size": 2})
    outcome = _harness(config).run()
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    derived = manifest["derived_limits"]["generation.max_new_tokens"]
    from advisor.tasks import load_task
    from benchmarks.limits import measure_lengths

    task = load_task(config.task)
    tokenizer = tiny_provider().tokenizer()
    assert derived == max(measure_lengths(task, tokenizer).train_answer)
    answers = [json.loads(x) for x in (outcome.run_dir / "answers.jsonl").read_text().splitlines()]
    assert max(a["output_tokens"] for a in answers) <= derived


def test_the_cost_table_sets_a_full_checkpoint_beside_a_lora_adapter(tmp_path: Path) -> None:
    from rich.console import Console

    from advisor.display import cost_table

    steps = {"max_steps": 2, "batch_size": 4}
    config = _config(tmp_path, ["sft", "full_ft", "prompt"], sft=steps, full_ft=steps)
    outcome = _harness(config).run()
    cost = {name: entry["cost"] for name, entry in outcome.scores["strategies"].items()}
    assert 0 < cost["sft"]["saved_mb"] < cost["full_ft"]["saved_mb"]
    assert "saved_mb" not in cost["prompt"]  # nothing trained, nothing saved
    prepare = outcome.scores["strategies"]["full_ft"]["prepare"]
    assert (
        prepare["trainable_params"]
        > outcome.scores["strategies"]["sft"]["prepare"]["trainable_params"]
    )
    console = Console(width=140, record=True)
    console.print(cost_table(outcome.scores))
    assert "saved" in console.export_text()


# ---------------------------------------------------------------- latency and throughput


class RecordingStrategy(PromptStrategy):
    """The prompt strategy, keeping every batch of questions it was asked."""

    name = "recording"
    batches: list[list[str]] = []

    def answer(self, questions):
        RecordingStrategy.batches.append(list(questions))
        return super().answer(questions)


def test_per_query_latency_is_timed_one_question_at_a_time_beside_throughput(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    from advisor.tasks import load_task

    monkeypatch.setitem(registry.REGISTRY, "recording", "test_harness:RecordingStrategy")
    monkeypatch.setattr(RecordingStrategy, "batches", [])
    generation = {"max_new_tokens": 6, "batch_size": 2, "latency_sample": 3}
    config = _config(tmp_path, ["recording"], generation=generation)
    outcome = _harness(config, resume=False).run()
    batches = RecordingStrategy.batches
    questions = {item.question for item in load_task(config.task).test}
    # the answering pass in chunks of several, then three questions, each alone
    assert all(len(b) > 1 for b in batches[:-3]) and sum(map(len, batches[:-3])) == 6
    timed = [b[0] for b in batches[-3:]]
    assert all(len(b) == 1 for b in batches[-3:])
    assert len(set(timed)) == 3 and set(timed) <= questions

    record = json.loads(
        (outcome.run_dir / "strategies" / "recording-seed0" / "prepare.json").read_text()
    )
    assert len(record["latency"]["samples_s"]) == 3
    cost = outcome.scores["strategies"]["recording"]["cost"]
    assert cost["latency_n"] == 3 and cost["latency_p50_s"] <= cost["latency_p95_s"]
    assert cost["answers_per_s"] > 0 and cost["answer_tokens_per_s"] >= 0
    assert cost["batch_size"] == 2
    assert "latency_s" not in cost  # no batch wall time called a latency
    with (outcome.run_dir / "item_scores.csv").open() as handle:
        assert not [c for c in next(csv.reader(handle)) if "latency" in c]

    # the same seed times the same questions
    RecordingStrategy.batches = []
    _harness(config, resume=False).run()
    assert [b[0] for b in RecordingStrategy.batches[-3:]] == timed


def test_a_latency_sample_of_zero_measures_none(tmp_path: Path) -> None:
    generation = {"max_new_tokens": 6, "batch_size": 1, "latency_sample": 0}
    outcome = _harness(_config(tmp_path, ["prompt"], generation=generation)).run()
    cost = outcome.scores["strategies"]["prompt"]["cost"]
    assert not [k for k in cost if "latency" in k]
    assert cost["answers_per_s"] > 0  # throughput is measured all the same
    record = json.loads(
        (outcome.run_dir / "strategies" / "prompt-seed0" / "prepare.json").read_text()
    )
    assert "latency" not in record


def test_a_resumed_run_keeps_the_latency_it_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.REGISTRY, "recording", "test_harness:RecordingStrategy")
    monkeypatch.setitem(registry.REGISTRY, "flaky", "test_harness:FlakyStrategy")
    monkeypatch.setattr(FlakyStrategy, "calls", 0)
    monkeypatch.setattr(FlakyStrategy, "failed", False)
    config = _config(tmp_path, ["recording", "flaky"])
    with pytest.raises(PowerCut):
        _harness(config).run()
    (run,) = (tmp_path / "runs").iterdir()
    first = json.loads((run / "strategies" / "recording-seed0" / "prepare.json").read_text())
    timed = min(RunConfig().generation.latency_sample, 6)  # the default sample of 6 test items
    assert len(first["latency"]["samples_s"]) == timed

    monkeypatch.setattr(RecordingStrategy, "batches", [])
    outcome = _harness(config).run()
    assert outcome.resumed and RecordingStrategy.batches == []  # finished: not timed again
    cost = outcome.scores["strategies"]["recording"]["cost"]
    assert cost["latency_p95_s"] == first["latency"]["latency_p95_s"]
    assert outcome.scores["strategies"]["flaky"]["cost"]["latency_n"] == timed


def test_a_trained_model_is_let_go_once_no_later_unit_reuses_it(
    tmp_path: Path, monkeypatch
) -> None:
    """The run's shared artefacts hold what a trained strategy leaves for the units
    that reuse it (`sft+rag` the `sft` adapter), and only until the last of them."""
    from strategies.protocol import SharedModel

    held: list[tuple[str, list[str]]] = []
    release = Harness.release

    def spy(self, unit, later):
        release(self, unit, later)
        trained = {k: v for k, v in self._shared.items() if isinstance(v, SharedModel)}
        assert all(v.model is None and v.adapter for v in trained.values())  # LoRA: weights only
        held.append((unit.strategy, sorted(key.split(":")[0] for key in trained)))

    monkeypatch.setattr(Harness, "release", spy)
    steps = {"max_steps": 2, "batch_size": 4}
    config = _config(tmp_path, ["sft", "cpt", "sft+rag", "prompt"], sft=steps, cpt=steps)
    outcome = _harness(config).run()
    assert held == [
        ("sft", ["sft-adapter"]),  # sft+rag comes later
        ("cpt", ["sft-adapter"]),  # nothing reuses cpt's
        ("sft+rag", []),
        ("prompt", []),
    ]
    prepare = outcome.scores["strategies"]["sft+rag"]["prepare"]
    assert prepare["adapter"] == "shared"  # trained once, by sft


def test_the_shared_base_model_is_let_go_after_the_last_unit_that_answers_with_it(
    tmp_path: Path,
) -> None:
    from advisor.models import ModelProvider
    from benchmarks.harness import Unit

    provider = ModelProvider("unused", "unused", cpu_device())  # loads from disk: may let go
    model, tokenizer = object(), object()
    provider._generator = (model, tokenizer)
    harness = _harness(_config(tmp_path, ["prompt", "sft"]))
    harness.models = provider
    prompt, sft = Unit("prompt", 0), Unit("sft", 0)
    harness.release(prompt, [prompt])  # a later prompt unit still answers with it
    assert provider._generator == (model, tokenizer)
    harness.release(prompt, [sft])  # sft trains on a copy of its own
    assert provider._generator is None and provider.tokenizer() is tokenizer
