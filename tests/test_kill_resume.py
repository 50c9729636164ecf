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
import os
import signal
import sys
from pathlib import Path
from rich.console import Console
from advisor.config import RunConfig, merge
from benchmarks.compare import run_and_report
from advisor.models import ModelProvider
from tiny import HashEmbedder, cpu_device, lively_llama, tiny_tokenizer

task, runs_dir = sys.argv[1], sys.argv[2]
kill_at = sys.argv[3] if len(sys.argv) > 3 else ""


def die():
    os.kill(os.getpid(), signal.SIGKILL)


# the test's own hooks, never the product's: this process SIGKILLs itself at a
# named moment, so the late moments (scoring, writing one file) are hit exactly
if kill_at.startswith("score_item:"):  # on the n-th item scored
    import benchmarks.metrics as metrics

    real_score, calls, at = metrics.score_item, [0], int(kill_at.split(":")[1])

    def score_item(*args, **kwargs):
        calls[0] += 1
        if calls[0] == at:
            die()
        return real_score(*args, **kwargs)

    metrics.score_item = score_item
elif kill_at.startswith("write:"):  # half-way through writing that file
    name, real_replace = kill_at.split(":", 1)[1], os.replace

    def replace(source, target, *args, **kwargs):
        if Path(target).name == name:
            data = Path(source).read_bytes()
            Path(source).write_bytes(data[: len(data) // 2])
            die()
        return real_replace(source, target, *args, **kwargs)

    os.replace = replace

tokenizer = tiny_tokenizer()
provider = ModelProvider.from_objects(lively_llama(tokenizer), tokenizer, HashEmbedder(), cpu_device())
config = merge(RunConfig(), {
    "task": task, "runs_dir": runs_dir, "strategies": ["prompt", "rag", "sft", "sft+rag"],
    "generation": {"max_new_tokens": 6, "batch_size": 1},
    "sft": {"max_steps": 6, "batch_size": 2},
})
run_and_report(config, Console(width=120), models=provider, device=cpu_device())
print("DONE")
"""


def _start(script: Path, task: Path, runs_dir: Path, kill_at: str = "") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    return subprocess.Popen(
        [sys.executable, str(script), str(task), str(runs_dir), kill_at],
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
            found[(record["unit"], record["id"], record.get("batch_time_s"))] = record["answer"]
    return found


def _leftovers(run_dir: Path) -> list[str]:
    """What atomic writers had not renamed into place yet (`.<name>.<pid>.<hex>.tmp`)."""
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob(".*.tmp"))


def _item_scores(run_dir: Path) -> list[dict[str, str]]:
    """item_scores.csv without timings (wall-clock times, never the same twice)."""
    import csv

    with (run_dir / "item_scores.csv").open(encoding="utf-8", newline="") as handle:
        return [
            {k: v for k, v in row.items() if "time" not in k and "latency" not in k}
            for row in csv.DictReader(handle)
        ]


def _test_items(task: Path) -> int:
    return sum(1 for line in (task / "test.jsonl").read_text().splitlines() if line.strip())


def test_a_run_killed_again_and_again_while_scoring_and_reporting_completes_whole(setup, tmp_path):
    """The late moments, each in turn in one run folder: killed while scoring the
    last strategy (every answer written), then half-way through writing
    scores.json, item_scores.csv, a plot, the HTML report and the manifest that
    marks the run complete. Each kill leaves the file it was writing absent (or
    as it was), never half-written; the next start deletes the torn temporary;
    the last start completes the run with the uninterrupted answers and scores."""
    script, task, (answers, scores) = setup
    uninterrupted = next(p for p in (script.parent / "uninterrupted").iterdir() if p.is_dir())
    runs_dir = tmp_path / "runs"
    items = _test_items(task)
    moments = [  # (kill point, the file it tears: relative to the run folder)
        (f"score_item:{3 * items + items // 2 + 1}", None),  # scoring sft+rag, the 4th
        ("write:scores.json", "scores.json"),
        ("write:item_scores.csv", "item_scores.csv"),
        ("write:score_by_kind.png", "plots/score_by_kind.png"),
        ("write:report.html", "report.html"),
        ("write:manifest.json", "manifest.json"),
    ]
    for kill_at, torn in moments:
        process = _start(script, task, runs_dir, kill_at)
        _, err = process.communicate(timeout=600)
        assert process.returncode == -signal.SIGKILL, f"{kill_at}: {err[-3000:]}"
        (run_dir,) = [p for p in runs_dir.iterdir() if p.is_dir()]  # one folder, resumed
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "running", kill_at
        if torn is None:  # killed while scoring: every answer is on disk, no score yet
            assert _answer_lines(runs_dir) == 4 * items
            assert not (run_dir / "scores.json").exists()
            assert _leftovers(run_dir) == []
            continue
        target = run_dir / torn
        # the torn temporary is the only leftover: the last kill's went at start-up
        (leftover,) = _leftovers(run_dir)
        assert Path(leftover).parent == Path(torn).parent
        assert Path(leftover).name.startswith(f".{target.name}.")
        if torn == "manifest.json":
            continue  # the old manifest is whole (read above) and still says running
        assert not target.exists(), f"{torn} was published half-written"
    for name in ("scores.json", "item_scores.csv"):  # published by the starts after the tear
        assert (run_dir / name).is_file()
    json.loads((run_dir / "scores.json").read_text(encoding="utf-8"))

    _finish(script, task, runs_dir)
    assert _results(runs_dir) == (answers, scores)
    assert _item_scores(run_dir) == _item_scores(uninterrupted)
    assert _leftovers(run_dir) == []
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete"
    assert (run_dir / "report.md").read_text(encoding="utf-8").strip()
    assert (run_dir / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    for plot in ("score_by_kind.png", "score_vs_cost.png"):
        assert (run_dir / "plots" / plot).read_bytes().endswith(b"IEND\xaeB`\x82")
