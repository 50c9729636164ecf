"""`advisor quiz --auto`: the engine answers from the question text alone; misses are shown."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import advisor.quiz.auto as auto
from advisor.cli import app
from advisor.quiz.auto import run_auto
from advisor.quiz.bank import Question

runner = CliRunner()

CLEAR = {
    "id": "weekly-docs",
    "scenario": (
        "A retailer's assistant must answer from its internal policy documents, "
        "which change every week, "
        "and cite the source of each answer."
    ),
    "options": {
        "A": "Train a new model from scratch.",
        "B": "Retrieve the relevant documents at query time (RAG).",
        "C": "Continue pre-training on the documents.",
        "D": "Fine-tune the model on question-answer pairs.",
    },
    "answer": "B",
    "topic": "changing-facts",
}


@pytest.fixture(autouse=True)
def _keywords_only(monkeypatch):
    # The engine's MiniLM fallback is tested with the decision engine; here keywords decide.
    monkeypatch.setattr(auto, "default_matcher", lambda: None)
    # the learned reader is tested with a tiny embedder in test_decision_reader.py
    monkeypatch.setattr(auto, "default_reader", lambda engine, console=None: None)


def _bank(tmp_path, *records):
    path = tmp_path / "bank.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_the_engine_never_sees_the_option_labels(monkeypatch):
    seen = []

    def spy(scenario_text, options, matcher=None):
        seen.append((scenario_text, options))
        return real(scenario_text, options, matcher)

    real = auto.choose_option
    monkeypatch.setattr(auto, "choose_option", spy)
    labeled = Question(
        id="x",
        scenario=CLEAR["scenario"],
        options=CLEAR["options"],
        answer="B",
        option_approaches={
            "A": "rag",
            "B": "scratch",
            "C": "sft",
            "D": "cpt",
        },  # deliberately wrong
    )
    unlabeled = Question(id="y", scenario=CLEAR["scenario"], options=CLEAR["options"], answer="B")
    result = run_auto([labeled, unlabeled], seed=0, bank="test")
    assert seen == [(CLEAR["scenario"], CLEAR["options"])] * 2
    assert [r.given for r in result.responses] == ["B", "B"]
    assert result.extra["engine"]["x"]["option_approaches"]["B"] == "rag"  # its own reading


def test_auto_reports_accuracy_topics_and_each_miss_with_reasons(tmp_path):
    wrong_key = {**CLEAR, "id": "bad-key", "answer": "A", "topic": "trap"}
    out = tmp_path / "auto.json"
    result = runner.invoke(
        app,
        ["quiz", "--auto", "--bank", str(_bank(tmp_path, CLEAR, wrong_key)), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "The engine answered 1/2 correctly (50%; 95% interval 9%–91%, Wilson)" in text
    assert "reader: keywords" in text
    assert "Engine accuracy by topic" in text and "changing-facts" in text and "trap" in text
    assert "✗ bad-key" in text and "✗ weekly-docs" not in text
    assert "engine: B" in text and "key:    A" in text
    flat = " ".join(text.replace("│", " ").split())
    assert "The knowledge changes faster than you could retrain" in flat  # a rule's rationale
    saved = json.loads(out.read_text())
    assert saved["mode"] == "auto" and saved["score"]["correct"] == 1
    assert saved["engine"]["bad-key"]["letter"] == "B"
    assert saved["engine"]["bad-key"]["recommended"] == "rag"


def test_auto_runs_the_whole_bank_by_default(tmp_path):
    records = [{**CLEAR, "id": f"q{i}"} for i in range(12)]
    result = runner.invoke(app, ["quiz", "--auto", "--bank", str(_bank(tmp_path, *records))])
    assert result.exit_code == 0, result.output
    assert "12/12" in result.output


@pytest.mark.parametrize(
    ("correct", "total", "low", "high"),
    [(1, 2, 0.0945, 0.9055), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (53, 85, 0.5176, 0.7193)],
)
def test_wilson_interval(correct, total, low, high):
    found = auto.wilson_interval(correct, total)
    assert found == pytest.approx((low, high), abs=1e-3)
