"""Files a user hands us that we cannot read: one located line, exit 1, no traceback.

Each case goes through the real app with `CliRunner`; the file is Latin-1 (a
spreadsheet export's usual encoding), so it is not UTF-8 on the line named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from advisor.fileio import read_text, write_json_atomic, write_text_atomic

runner = CliRunner()
LATIN1_ON_LINE_2 = "compute: cpu\nnote: café\n".encode("latin-1")


def _not_utf8(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(LATIN1_ON_LINE_2)
    return path


def _assert_one_located_line(result, path: Path) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}:2: not UTF-8 text" in result.output
    assert "hint: save the file as UTF-8" in result.output


def test_recommend_scenario_file_not_utf8(tmp_path: Path) -> None:
    path = _not_utf8(tmp_path, "scenario.yaml")
    _assert_one_located_line(runner.invoke(app, ["recommend", str(path)]), path)


def test_compare_prices_not_utf8_writes_no_run(tmp_path: Path) -> None:
    path = _not_utf8(tmp_path, "prices.yaml")
    runs = tmp_path / "runs"
    result = runner.invoke(
        app, ["compare", "-s", "prompt", "--prices", str(path), "--runs-dir", str(runs)]
    )
    _assert_one_located_line(result, path)
    assert not runs.exists()


def test_compare_prices_missing_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = runner.invoke(
        app, ["compare", "-s", "prompt", "--prices", str(path), "--runs-dir", str(tmp_path)]
    )
    assert result.exit_code == 1 and f"{path}: price table not found" in result.output


def test_compare_config_not_utf8(tmp_path: Path) -> None:
    path = _not_utf8(tmp_path, "config.yaml")
    result = runner.invoke(app, ["compare", "--config", str(path), "--runs-dir", str(tmp_path)])
    _assert_one_located_line(result, path)


def test_compare_scenario_not_utf8_fails_before_the_run(tmp_path: Path) -> None:
    path = _not_utf8(tmp_path, "scenario.yaml")
    runs = tmp_path / "runs"
    result = runner.invoke(
        app, ["compare", "-s", "prompt", "--scenario", str(path), "--runs-dir", str(runs)]
    )
    _assert_one_located_line(result, path)
    assert not runs.exists()


def test_recommend_from_run_with_scores_not_utf8(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    path = run / "scores.json"
    path.write_bytes(b'{"schema": 1,\n "task": "caf\xe9"}\n')
    result = runner.invoke(app, ["recommend", "--from-run", str(run)])
    _assert_one_located_line(result, path)


def test_quiz_bank_not_utf8(tmp_path: Path) -> None:
    path = _not_utf8(tmp_path, "bank.jsonl")
    result = runner.invoke(app, ["quiz", "--bank", str(path), "-n", "1"], input="\n")
    _assert_one_located_line(result, path)


def test_read_text_names_a_folder_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AdvisorError, match="expected a price table, found a folder"):
        read_text(tmp_path, what="price table")
    with pytest.raises(AdvisorError, match="price table not found"):
        read_text(tmp_path / "missing.yaml", what="price table")


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_json_atomic(path, {"status": "running"})
    with pytest.raises(TypeError):
        write_text_atomic(path, 42)  # type: ignore[arg-type]  # fails mid-write
    assert json.loads(path.read_text()) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temp file left
