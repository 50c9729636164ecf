"""`advisor quiz` through the real app: interactive answers via `input=`, sheets, JSON, errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.quiz.bank import load_bank
from advisor.quiz.session import build_quiz

runner = CliRunner()

QUESTIONS = [
    {
        "id": "docs",
        "scenario": "Answers must come from documents that change every week.",
        "options": {
            "A": "Train from scratch.",
            "B": "Retrieve the documents.",
            "C": "Prompt only.",
            "D": "Few-shot.",
        },
        "answer": "B",
        "explanation": "Weekly changes call for retrieval.",
        "topic": "changing-facts",
    },
    {
        "id": "tone",
        "scenario": "The model needs the house tone and there are 5,000 rated replies.",
        "options": {
            "A": "Fine-tune on the replies.",
            "B": "Retrieve.",
            "C": "Scratch.",
            "D": "Prompt.",
        },
        "answer": "A",
        "explanation": "Thousands of examples of a behaviour: fine-tune.",
        "topic": "knowledge-vs-behaviour",
    },
    {
        "id": "demo",
        "scenario": "A demo this week, no data, the base model already does it.",
        "options": {
            "A": "Scratch.",
            "B": "Fine-tune.",
            "C": "Retrieve.",
            "D": "Write a clear prompt.",
        },
        "answer": "D",
        "explanation": "Least effort: prompt.",
        "topic": "least-effort",
    },
]


@pytest.fixture
def bank_file(tmp_path):
    path = tmp_path / "bank.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def _order(bank_file, seed: int) -> list:
    return build_quiz(load_bank(bank_file), n=10, topics=None, seed=seed)


def _wrong(question) -> str:
    return next(letter for letter in question.letters if letter != question.answer)


def test_interactive_quiz_gives_feedback_and_a_per_topic_score(bank_file, tmp_path):
    first, second, third = _order(bank_file, seed=3)
    typed = ["z", "?", first.answer.lower(), _wrong(second), "s"]
    out = tmp_path / "results.json"
    result = runner.invoke(
        app,
        ["quiz", "--bank", str(bank_file), "--seed", "3", "--interactive", "--json", str(out)],
        input="\n".join(typed) + "\n",
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Question 1/3" in text and "Question 3/3" in text
    assert first.scenario in text
    assert "Please type one of A/B/C/D" in text  # "z" re-prompts
    assert "skip this question" in text  # "?" shows help
    assert "✓ Correct" in text and first.explanation in text
    assert f"you chose {_wrong(second)}" in text and f"The answer is {second.answer}" in text
    assert "Skipped" in text
    assert "Score: 1/3" in text and "1 skipped" in text
    assert "By topic" in text and first.topic in text
    saved = json.loads(out.read_text())
    assert saved["mode"] == "interactive" and saved["seed"] == 3
    assert [(q["id"], q["correct"]) for q in saved["questions"]] == [
        (first.id, True),
        (second.id, False),
        (third.id, False),
    ]


def test_quitting_early_keeps_the_score_so_far(bank_file):
    first, *_ = _order(bank_file, seed=4)
    result = runner.invoke(
        app,
        ["quiz", "--bank", str(bank_file), "--seed", "4", "--interactive"],
        input=f"{first.answer}\nq\n",
    )
    assert result.exit_code == 0, result.output
    assert "Question 2/3" in result.output and "Question 3/3" not in result.output
    assert "Score: 1/1" in result.output and "stopped after 1 of 3 questions" in result.output


def test_end_of_input_ends_the_quiz_like_quitting(bank_file):
    result = runner.invoke(
        app, ["quiz", "--bank", str(bank_file), "--seed", "4", "--interactive"], input=""
    )
    assert result.exit_code == 0, result.output
    assert "No questions answered" in result.output


def test_answers_option_grades_a_whole_sheet(bank_file, tmp_path):
    order = _order(bank_file, seed=5)
    sheet = order[0].answer + _wrong(order[1]) + order[2].answer
    out = tmp_path / "sheet.json"
    result = runner.invoke(
        app,
        ["quiz", "--bank", str(bank_file), "--seed", "5", "--answers", sheet, "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Score: 2/3" in result.output
    assert "Question 1/3" not in result.output  # no prompts
    saved = json.loads(out.read_text())
    assert saved["mode"] == "answers"
    assert saved["score"]["correct"] == 2
    assert saved["by_topic"][order[1].topic] == {"correct": 0, "total": 1, "accuracy": 0.0}


def test_answers_are_read_from_stdin_when_it_is_not_a_terminal(bank_file):
    order = _order(bank_file, seed=6)
    result = runner.invoke(
        app,
        ["quiz", "--bank", str(bank_file), "--seed", "6"],
        input="\n".join(q.answer for q in order) + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Score: 3/3" in result.output


def test_empty_stdin_without_answers_is_a_clear_error(bank_file):
    result = runner.invoke(app, ["quiz", "--bank", str(bank_file)], input="")
    assert result.exit_code == 1
    assert "no answers on stdin" in result.stderr
    assert "Traceback" not in result.output


def test_too_many_answers_is_an_error(bank_file):
    result = runner.invoke(app, ["quiz", "--bank", str(bank_file), "--answers", "ABCDA"])
    assert result.exit_code == 1
    assert "5 answers for 3 questions" in result.stderr


def test_same_seed_same_quiz(bank_file):
    args = ["quiz", "--bank", str(bank_file), "--seed", "11", "--answers", "AAA"]
    assert runner.invoke(app, args).output == runner.invoke(app, args).output


def test_topic_filter_and_unknown_topic(bank_file):
    result = runner.invoke(
        app, ["quiz", "--bank", str(bank_file), "--topic", "least-effort", "--answers", "D"]
    )
    assert result.exit_code == 0, result.output
    assert "Score: 1/1" in result.output
    result = runner.invoke(
        app, ["quiz", "--bank", str(bank_file), "--topic", "nonsense", "--answers", "D"]
    )
    assert result.exit_code == 1
    assert "unknown topic 'nonsense'" in result.stderr
    assert "changing-facts, knowledge-vs-behaviour, least-effort" in result.stderr


def test_topics_lists_the_banks_topics():
    result = runner.invoke(app, ["quiz", "--topics"])
    assert result.exit_code == 0, result.output
    assert "changing-facts" in result.output and "from-scratch" in result.output


def test_builtin_bank_quiz_of_five(tmp_path):
    result = runner.invoke(app, ["quiz", "--n", "5", "--seed", "1", "--answers", "ABCDA"])
    assert result.exit_code == 0, result.output
    assert "/5" in result.output


def test_malformed_bank_names_the_line_without_a_traceback(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(
        json.dumps(QUESTIONS[0]) + "\n" + '{"id": "x", "scenario": "s", "options": \n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["quiz", "--bank", str(path), "--answers", "A"])
    assert result.exit_code == 1
    assert f"{path}:2" in result.stderr and "malformed JSON" in result.stderr
    assert "Traceback" not in result.output


def test_bank_with_a_bad_answer_names_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**QUESTIONS[0], "answer": "F"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["quiz", "--bank", str(path), "--answers", "A"])
    assert result.exit_code == 1
    assert f"{path}:1: field 'answer'" in result.stderr


def test_generated_questions_mix_in(bank_file):
    result = runner.invoke(
        app,
        [
            "quiz",
            "--bank",
            str(bank_file),
            "--n",
            "1",
            "--generated",
            "2",
            "--seed",
            "2",
            "--answers",
            "AAA",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "/3" in result.output and "generated" in result.output


def test_ctrl_c_at_the_prompt_stops_and_keeps_the_answers_so_far(bank_file):
    import io

    from rich.console import Console

    from advisor.quiz.terminal import run_interactive

    questions = load_bank(bank_file)
    replies = iter([questions[0].answer])

    def ask(prompt: str) -> str:
        try:
            return next(replies)
        except StopIteration:
            raise KeyboardInterrupt from None

    console = Console(file=io.StringIO(), width=100)
    responses, quit_early = run_interactive(questions, console, ask)
    assert quit_early and [r.correct for r in responses] == [True]


def test_feedback_names_the_concepts_and_explain_prints_an_entry():
    from rich.console import Console

    from advisor.quiz.bank import load_bank
    from advisor.quiz.terminal import feedback_panel

    question = next(q for q in load_bank() if q.id == "concept-lora-1")
    console = Console(width=100, record=True)
    console.print(feedback_panel(question, question.answer))
    text = console.export_text()
    assert "Concepts:" in text and "LoRA" in text


def test_explain_prints_a_glossary_entry_with_did_you_mean():
    found = runner.invoke(app, ["explain", "continuous", "pre-training"])
    assert found.exit_code == 0, found.output
    assert "Continued pre-training" in found.output and "approach" in found.output
    assert "not to confuse with" in found.output
    missing = runner.invoke(app, ["explain", "distilation"])
    assert missing.exit_code == 1 and "did you mean" in missing.output
    assert "Knowledge distillation" in missing.output and "Traceback" not in missing.output
    listed = runner.invoke(app, ["explain", "--list"])
    assert listed.exit_code == 0 and "security_scope_self_trained_model" in listed.output
