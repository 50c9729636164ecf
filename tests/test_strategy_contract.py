"""One contract, every registered strategy: prepare on a task, then answer every
question deterministically, through the same interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.config import RunConfig, merge
from advisor.tasks import load_task
from strategies.protocol import Answer, PrepareReport, Strategy, StrategyContext, unmet_need
from strategies.registry import available_strategies, create_strategy, strategy_needs
from tiny import cpu_device, tiny_provider, write_tiny_classification_task, write_tiny_task

RETRIEVING = {"rag", "sft+rag", "full_ft+rag"}

SMALL = {
    "generation": {"max_new_tokens": 5, "batch_size": 4},
    "sft": {"max_steps": 3, "batch_size": 4},
    "full_ft": {"max_steps": 3, "batch_size": 4},
    "cpt": {"max_steps": 3, "batch_size": 2, "max_length": 32},
    "scratch": {
        "steps": 5,
        "n_layer": 1,
        "n_embd": 32,
        "n_head": 2,
        "block_size": 64,
        "batch_size": 4,
    },
}


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    return {
        "generation": load_task(write_tiny_task(root / "tiny")),
        "classification": load_task(write_tiny_classification_task(root / "intents", corpus=True)),
    }


CASES = [
    (name, task_type)
    for name in available_strategies()
    for task_type in ("generation", "classification")
    if task_type in strategy_needs(name).task_types
]


@pytest.mark.parametrize(("name", "task_type"), CASES)
def test_strategy_contract(name: str, task_type: str, tasks, tmp_path: Path) -> None:
    task = tasks[task_type]
    assert unmet_need(strategy_needs(name), task) is None
    strategy = create_strategy(name)
    assert isinstance(strategy, Strategy)
    assert strategy.name == name
    ctx = StrategyContext(
        task=task,
        config=merge(RunConfig(), SMALL),
        models=tiny_provider(),
        device=cpu_device(),
        seed=0,
        workdir=tmp_path,
        shared={},
    )
    report = strategy.prepare(ctx)
    assert isinstance(report, PrepareReport)
    assert report.train_time_s >= 0

    questions = [item.question for item in task.test]
    answers = strategy.answer(questions)
    assert len(answers) == len(questions)
    assert all(isinstance(a, Answer) and isinstance(a.text, str) for a in answers)
    assert all(a.latency_s >= 0 for a in answers)
    if task_type == "classification":
        # every answer is a label: scored by likelihood, written by a trained
        # model (then it may be any text), or predicted by a classifier
        assert {a.scoring for a in answers} <= {
            "constrained",
            "likelihood",
            "generate",
            "classifier",
        }
        expected = "classifier" if not strategy_needs(name).generator else None
        if expected or not strategy_needs(name).learns_labels:
            assert all(a.text in task.labels for a in answers)
            assert all(a.scoring == (expected or "constrained") for a in answers)
    else:
        assert all(a.prompt_tokens > 0 and 0 < a.output_tokens <= 5 for a in answers)
    if name in RETRIEVING:
        assert all(a.passages for a in answers)
        suffix = ".md" if task_type == "generation" else None
        assert all(
            p.doc_id.endswith(".md") if suffix else p.doc_id.startswith("train.jsonl:")
            for a in answers
            for p in a.passages
        )
    else:
        assert not any(a.passages for a in answers)

    again = strategy.answer(questions[::-1])[::-1]
    assert [a.text for a in again] == [a.text for a in answers], (
        "answers must not depend on order or batching"
    )
