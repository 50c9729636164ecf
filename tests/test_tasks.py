"""The task loader refuses bad input with the file, line and field, and writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import TaskError
from advisor.tasks import load_task, normalise_question
from tiny import write_tiny_task


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    return write_tiny_task(tmp_path / "tiny")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _append(path: Path, line: str) -> int:
    text = path.read_text()
    path.write_text(text + line + "\n")
    return text.count("\n") + 1


def test_valid_task_loads(task_dir: Path) -> None:
    task = load_task(task_dir)
    assert task.name == "tiny"
    assert {item.kind for item in task.test} == {"seen", "unseen", "style", "out_of_scope", "drift"}
    assert task.corpus_v2 is not None and task.current_corpus is task.corpus_v2
    # the prompt/completion record became a user + assistant conversation
    assert task.train[-1].messages[0]["role"] == "user"
    assert task.content_hash() == load_task(task_dir).content_hash()


def test_content_hash_changes_with_any_file(task_dir: Path) -> None:
    before = load_task(task_dir).content_hash()
    (task_dir / "corpus" / "hours.md").write_text("# Hours\n\nBranches open from 8:00 am.\n")
    assert load_task(task_dir).content_hash() != before


@pytest.mark.parametrize(
    ("filename", "line_text", "field", "message"),
    [
        ("test.jsonl", '{"id": "x", "question": "q?"', None, "malformed JSON"),
        (
            "test.jsonl",
            '{"id": "x", "reference": "r", "facts": [], "kind": "seen"}',
            "question",
            "missing",
        ),
        (
            "test.jsonl",
            '{"id": "seen-1", "question": "Other?", "reference": "r", "facts": ["Q1.00"], "kind": "seen"}',
            "id",
            "duplicate id",
        ),
        (
            "test.jsonl",
            '{"id": "y", "question": "Other?", "reference": "r", "facts": ["Q1.00"], "kind": "trivia"}',
            "kind",
            "unknown kind",
        ),
        (
            "test.jsonl",
            '{"id": "y", "question": "Other?", "reference": "r", "facts": "Q1.00", "kind": "seen"}',
            "facts",
            "list of strings",
        ),
        ("test.jsonl", '["not", "an", "object"]', None, "JSON object"),
        (
            "train.jsonl",
            '{"messages": [{"role": "robot", "content": "hi"}]}',
            "messages[0].role",
            "unknown role",
        ),
        (
            "train.jsonl",
            '{"messages": [{"role": "user", "content": "hi"}]}',
            "messages",
            "assistant",
        ),
        ("train.jsonl", '{"prompt": "hi"}', "completion", "missing"),
        ("train.jsonl", '{"text": "hi"}', "messages", "expected 'messages'"),
    ],
)
def test_bad_jsonl_line_is_located(
    task_dir: Path, filename: str, line_text: str, field: str | None, message: str
) -> None:
    line = _append(task_dir / filename, line_text)
    with pytest.raises(TaskError) as caught:
        load_task(task_dir)
    error = caught.value
    assert error.file == str(task_dir / filename)
    assert error.line == line
    assert error.field == field
    assert message in str(error)


def test_empty_file_is_refused(task_dir: Path) -> None:
    (task_dir / "train.jsonl").write_text("\n\n")
    with pytest.raises(TaskError, match="file is empty") as caught:
        load_task(task_dir)
    assert caught.value.file.endswith("train.jsonl")


def test_missing_corpus_and_task_yaml_fields(task_dir: Path) -> None:
    shutil.rmtree(task_dir / "corpus_v2")
    with pytest.raises(TaskError, match="corpus folder not found") as caught:
        load_task(task_dir)
    assert caught.value.field == "drift.corpus"
    (task_dir / "task.yaml").write_text("name: tiny\nversion: one\n")
    with pytest.raises(TaskError) as caught:
        load_task(task_dir)
    assert caught.value.field == "version" and "expected int" in str(caught.value)


def test_bad_regex_in_style_is_refused(task_dir: Path) -> None:
    text = (
        (task_dir / "task.yaml")
        .read_text()
        .replace("max_words: 30", "max_words: 30\n  forbidden_patterns: ['(unclosed']")
    )
    (task_dir / "task.yaml").write_text(text)
    with pytest.raises(TaskError, match="regular expression") as caught:
        load_task(task_dir)
    assert caught.value.field == "style.forbidden_patterns"


def test_leakage_is_refused_unless_allowed(task_dir: Path) -> None:
    train_question = json.loads((task_dir / "train.jsonl").read_text().splitlines()[0])["messages"][
        0
    ]["content"]
    leaked = {
        "id": "leak",
        "question": train_question.upper() + "!!",
        "reference": "r",
        "facts": ["Q5.00"],
        "kind": "seen",
    }
    line = _append(task_dir / "test.jsonl", json.dumps(leaked))
    with pytest.raises(TaskError, match="leakage") as caught:
        load_task(task_dir)
    assert caught.value.line == line and caught.value.field == "question"
    assert "train.jsonl line 1" in str(caught.value)
    assert "--allow-leakage" in caught.value.hint
    assert any(item.id == "leak" for item in load_task(task_dir, allow_leakage=True).test)


def test_normalise_question_folds_case_punctuation_and_space() -> None:
    assert normalise_question("  How much, does it COST?? ") == normalise_question(
        "how much does it cost"
    )


def test_unknown_task_name_lists_builtins() -> None:
    with pytest.raises(TaskError, match="no task named 'bankng'"):
        load_task("bankng")


def test_cli_reports_bad_task_without_traceback_and_writes_nothing(task_dir: Path) -> None:
    line = _append(
        task_dir / "test.jsonl",
        '{"id": "z", "question": "Other?", "reference": "r", "facts": [], "kind": "bogus"}',
    )
    before = _snapshot(task_dir)
    result = CliRunner().invoke(app, ["tasks", "show", str(task_dir)])
    assert result.exit_code == 1
    assert f"test.jsonl:{line}: field 'kind': unknown kind 'bogus'" in result.output
    assert "Traceback" not in result.output
    assert _snapshot(task_dir) == before


def test_compare_refuses_bad_task_before_writing_a_run(task_dir: Path, tmp_path: Path) -> None:
    _append(task_dir / "train.jsonl", "{oops")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["compare", "--task", str(task_dir), "--runs-dir", str(runs), "-s", "prompt"]
    )
    assert result.exit_code == 1
    assert "train.jsonl" in result.output and "malformed JSON" in result.output
    assert not runs.exists()


def test_tasks_show_prints_a_valid_task(task_dir: Path) -> None:
    result = CliRunner().invoke(app, ["tasks", "show", str(task_dir)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "out_of_scope" in result.output
