"""SIGKILL at any moment loses nothing finished: a run in a child process is killed
(a real `kill -9`) at different moments — while answering, while training, just
after it starts — and the same run started again finishes with the same per-item
answers and scores as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent

SCRIPT = """
import sys
from pathlib import Path
from advisor.config import RunConfig, merge
from benchmarks.harness import Harness
from advisor.models import ModelProvider
from tiny import HashEmbedder, cpu_device, lively_llama, tiny_tokenizer

task, runs_dir = sys.argv[1], sys.argv[2]
tokenizer = tiny_tokenizer()
provider = ModelProvider.from_objects(lively_llama(tokenizer), tokenizer, HashEmbedder(), cpu_device())
config = merge(RunConfig(), {
    "task": task, "runs_dir": runs_dir, "strategies": ["prompt", "rag", "sft", "sft+rag"],
    "generation": {"max_new_tokens": 6, "batch_size": 1},
    "sft": {"max_steps": 6, "batch_size": 2},
})
Harness(config, models=provider, device=cpu_device()).run()
print("DONE")
"""


def _start(script: Path, task: Path, runs_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    return subprocess.Popen(
        [sys.executable, str(script), str(task), str(runs_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(script: Path, task: Path, runs_dir: Path) -> None:
    process = _start(script, task, runs_dir)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0 and "DONE" in out, err[-3000:]


def _results(runs_dir: Path) -> tuple[dict, dict]:
    (run_dir,) = [p for p in runs_dir.iterdir() if (p / "manifest.json").is_file()]
    answers = {}
    for line in (run_dir / "answers.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            answers[(record["unit"], record["id"])] = record["answer"]
    scores = json.loads((run_dir / "scores.json").read_text(encoding="utf-8"))
    means = {
        name: entry["overall"]["score"]["mean"] for name, entry in scores["strategies"].items()
    }
    return answers, means


def _wait_for(condition, process: subprocess.Popen, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if condition():
            return True
        time.sleep(0.02)
    return False


def _answer_lines(runs_dir: Path) -> int:
    return sum(
        len(p.read_bytes().splitlines()) for p in runs_dir.glob("*/answers.jsonl") if p.is_file()
    )


MOMENTS = {
    "just after it starts": lambda runs_dir: any(runs_dir.glob("*/manifest.json")),
    "while answering": lambda runs_dir: _answer_lines(runs_dir) >= 3,
    "once sft has its folder (training or after)": lambda runs_dir: any(
        runs_dir.glob("*/strategies/sft-seed0*")
    ),
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from tiny import write_tiny_task

    root = tmp_path_factory.mktemp("kill")
    script = root / "run_tiny.py"
    script.write_text(SCRIPT, encoding="utf-8")
    task = write_tiny_task(root / "task")
    _finish(script, task, root / "uninterrupted")
    return script, task, _results(root / "uninterrupted")


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_run_killed_at_any_moment_finishes_with_the_same_answers(setup, tmp_path, moment):
    script, task, (answers, scores) = setup
    runs_dir = tmp_path / "runs"
    process = _start(script, task, runs_dir)
    reached = _wait_for(lambda: MOMENTS[moment](runs_dir), process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert reached, f"the run ended before the moment {moment!r} was seen"
    assert process.returncode == -signal.SIGKILL
    kept = _sound_answers(runs_dir)  # what was finished before the kill
    _finish(script, task, runs_dir)  # the same command again resumes (one run folder)
    again_answers, again_scores = _results(runs_dir)
    assert again_answers == answers
    assert again_scores == scores
    final_lines = set(_sound_answers(runs_dir).items())
    assert set(kept.items()) <= final_lines  # kept, not redone in a new folder


def _sound_answers(runs_dir: Path) -> dict[tuple[str, str], str]:
    """The answer lines on disk that parse (a torn last line does not)."""
    found = {}
    for path in runs_dir.glob("*/answers.jsonl"):
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            found[(record["unit"], record["id"], record.get("latency_s"))] = record["answer"]
    return found
