"""The append-only answers file: damage anywhere is found and those items redone,
and the rerun ends with the answers and scores of the undamaged run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from advisor.config import RunConfig, merge
from benchmarks.answers import ANSWERS, append_answers, read_answers_file, sound_record
from benchmarks.harness import Harness
from tiny import cpu_device, tiny_provider, write_tiny_task


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[RunConfig, Path]:
    """A finished tiny run of two strategies (12 answers), made once for the module."""
    root = tmp_path_factory.mktemp("answers")
    config = merge(
        RunConfig(),
        {
            "task": str(write_tiny_task(root / "task")),
            "strategies": ["prompt", "rag"],
            "runs_dir": str(root / "runs"),
            "generation": {"max_new_tokens": 6, "batch_size": 1},
        },
    )
    outcome = Harness(config, models=tiny_provider(), device=cpu_device()).run()
    return config, outcome.run_dir


@pytest.fixture
def run_copy(finished, tmp_path: Path) -> tuple[RunConfig, Path, Path]:
    config, run = finished
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    return config, run, copy


def _answers(run: Path) -> dict[tuple[str, str], str]:
    return {key: r["answer"] for key, r in read_answers_file(run).records.items()}


def _scores(run: Path) -> dict:
    """Every score of every strategy, without the timings (they differ run to run)."""
    data = json.loads((run / "scores.json").read_text())
    return {
        name: {
            "overall": {k: v for k, v in entry["overall"].items() if k != "latency_s"},
            "by_kind": {
                kind: {k: v for k, v in metrics.items() if k != "latency_s"}
                for kind, metrics in entry["by_kind"].items()
            },
        }
        for name, entry in data["strategies"].items()
    }


def _resume(config: RunConfig, run: Path) -> list[str]:
    messages: list[str] = []
    Harness(
        config, models=tiny_provider(), device=cpu_device(), resume=run, log=messages.append
    ).run()
    return messages


def _garble(run: Path, number: int, damage) -> None:
    path = run / ANSWERS
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = damage(lines[number - 1])
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    "damage",
    [
        lambda line: line[: len(line) // 2] + b"\n",  # torn in the middle of the file
        lambda line: line.replace(b'"answer": "', b'"answer": "not what it said '),  # valid JSON
        lambda line: b"\xff\xfe" + line,  # not UTF-8
        lambda line: b'{"unit": "prompt-seed0"}\n',  # missing fields
    ],
    ids=["torn", "altered", "not-utf8", "missing-fields"],
)
def test_a_garbled_middle_line_is_redone_with_the_same_results(run_copy, damage) -> None:
    config, original, run = run_copy
    before = _answers(original)
    _garble(run, 3, damage)
    assert len(_answers(run)) == len(before) - 1  # the damaged record is not used

    messages = _resume(config, run)
    assert any("1 torn or garbled line(s) (3)" in m for m in messages), messages
    assert _answers(run) == before
    assert _scores(run) == _scores(original)
    lines = (run / ANSWERS).read_bytes().splitlines()
    assert len(lines) == len(before) and all(sound_record(x) for x in lines)  # clean again


def test_every_damaged_line_is_found(run_copy) -> None:
    config, original, run = run_copy
    for number in (1, 5, 12):
        _garble(run, number, lambda line: line[:10] + b"\n")
    assert read_answers_file(run).bad_lines == [1, 5, 12]
    _resume(config, run)
    assert _answers(run) == _answers(original)


def test_a_record_appended_after_a_torn_last_line_starts_its_own_line(tmp_path: Path) -> None:
    record = {
        "unit": "prompt-seed0",
        "id": "q1",
        "answer": "Q5.00",
        "prompt_tokens": 10,
        "output_tokens": 3,
        "batch_time_s": 0.1,
        "answer_time_share_s": 0.1,
        "citations": [],
    }
    (tmp_path / ANSWERS).write_bytes(b'{"unit": "prompt-seed0", "id": "q0", "ans')
    append_answers(tmp_path, [record])
    found = read_answers_file(tmp_path)
    assert found.bad_lines == [1]
    assert found.records[("prompt-seed0", "q1")]["answer"] == "Q5.00"
