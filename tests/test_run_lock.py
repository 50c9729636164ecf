"""One writer per run folder, and Ctrl-C that leaves a run to resume.

The lock is tested against real processes: a live one (a `sleep` started here)
holds it, a dead one (a process that has exited) leaves a stale lock that the
next run takes over.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from benchmarks import lock
from strategies import registry
from strategies.prompting import PromptStrategy
from tiny import save_tiny_model, write_tiny_task

runner = CliRunner()


@pytest.fixture
def live_pid():
    """The pid of a process that is alive for the whole test."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _write_lock(run_dir: Path, pid: int, host: str | None = None) -> None:
    holder = {"pid": pid, "host": host or socket.gethostname(), "started": "2026-01-01T00:00:00"}
    (run_dir / lock.LOCK).write_text(json.dumps(holder))


# ---------------------------------------------------------------- the lock itself


def test_a_lock_is_taken_and_released(tmp_path: Path) -> None:
    with lock.locked(tmp_path) as holder:
        recorded = json.loads((tmp_path / lock.LOCK).read_text())
        assert recorded["pid"] == holder.pid and recorded["host"] == socket.gethostname()
    assert list(tmp_path.iterdir()) == []


def test_a_live_process_keeps_its_lock(tmp_path: Path, live_pid: int) -> None:
    _write_lock(tmp_path, live_pid)
    with pytest.raises(AdvisorError, match=f"locked by process {live_pid} on "):
        lock.acquire(tmp_path)
    assert json.loads((tmp_path / lock.LOCK).read_text())["pid"] == live_pid


def test_the_same_process_cannot_lock_a_run_twice(tmp_path: Path) -> None:
    with lock.locked(tmp_path), pytest.raises(AdvisorError, match="this process already"):
        lock.acquire(tmp_path)


def test_a_dead_process_lock_is_taken_over(tmp_path: Path, dead_pid: int) -> None:
    _write_lock(tmp_path, dead_pid)
    holder = lock.acquire(tmp_path)
    assert json.loads((tmp_path / lock.LOCK).read_text())["pid"] == holder.pid != dead_pid


def test_a_torn_lock_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / lock.LOCK).write_text('{"pid": 12')
    lock.acquire(tmp_path)


def test_a_lock_from_another_host_is_never_taken_over(tmp_path: Path, dead_pid: int) -> None:
    _write_lock(tmp_path, dead_pid, host="elsewhere.example")
    with pytest.raises(AdvisorError, match=f"process {dead_pid} on elsewhere.example"):
        lock.acquire(tmp_path)


def test_release_never_removes_another_process_lock(tmp_path: Path, live_pid: int) -> None:
    holder = lock.acquire(tmp_path)
    _write_lock(tmp_path, live_pid)  # as if the lock had been taken over meanwhile
    lock.release(tmp_path, holder)
    assert (tmp_path / lock.LOCK).is_file()


# ---------------------------------------------------------------- through `advisor compare`


class StopperStrategy(PromptStrategy):
    """The prompt strategy, with Ctrl-C pressed during its first answers while armed."""

    name = "stopper"
    armed = True

    def answer(self, questions):
        if StopperStrategy.armed:
            raise KeyboardInterrupt
        return super().answer(questions)


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory) -> tuple[list[str], Path]:
    """A compare interrupted by Ctrl-C (the command and its run folder)."""
    root = tmp_path_factory.mktemp("interrupted")
    model = save_tiny_model(root / "model")
    task = write_tiny_task(root / "task")
    args = ["compare", "--task", str(task), "-s", "prompt,stopper", "-n", "2"]
    args += [f"model.generator={model}", "generation.max_new_tokens=4"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.REGISTRY, "stopper", "test_run_lock:StopperStrategy")
        StopperStrategy.armed = True
        result = runner.invoke(app, [*args, "--runs-dir", str(root / "runs")])
    assert result.exit_code == 130, result.output
    assert "interrupted — run the same command to resume" in result.output
    assert "Traceback" not in result.output
    (run,) = (root / "runs").iterdir()
    return args, run


@pytest.fixture
def unfinished(interrupted_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh copy of the interrupted run, in a runs folder of this test's own."""
    args, run = interrupted_run
    runs = tmp_path / "runs"
    copy = runs / run.name
    shutil.copytree(run, copy)
    monkeypatch.setitem(registry.REGISTRY, "stopper", "test_run_lock:StopperStrategy")
    monkeypatch.setattr(StopperStrategy, "armed", False)
    return [*args, "--runs-dir", str(runs)], copy


def test_ctrl_c_leaves_a_resumable_run_and_no_lock(interrupted_run) -> None:
    _, run = interrupted_run
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "running"
    assert not (run / lock.LOCK).exists()
    answered = [json.loads(x)["strategy"] for x in (run / "answers.jsonl").read_text().splitlines()]
    assert answered == ["prompt", "prompt"]  # what was finished before Ctrl-C is kept


def test_a_second_compare_on_a_locked_run_says_who_holds_it(unfinished, live_pid: int) -> None:
    args, run = unfinished
    _write_lock(run, live_pid)
    before = (run / "answers.jsonl").read_text()
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"locked by process {live_pid} on {socket.gethostname()}" in result.output
    assert "Traceback" not in result.output
    assert (run / "answers.jsonl").read_text() == before
    assert [p.name for p in run.parent.iterdir()] == [run.name]  # no other run started


def test_a_stale_lock_is_taken_over_and_the_run_finishes(unfinished, dead_pid: int) -> None:
    args, run = unfinished
    _write_lock(run, dead_pid)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((run / "manifest.json").read_text())["status"] == "complete"
    assert not (run / lock.LOCK).exists()
    answered = [json.loads(x)["strategy"] for x in (run / "answers.jsonl").read_text().splitlines()]
    assert sorted(answered) == ["prompt", "prompt", "stopper", "stopper"]
