"""`--executor ray` on a local Ray cluster (2 CPUs): the same answers as the serial
run, a worker killed mid-sweep (a real SIGKILL) loses nothing, dependency order."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from advisor.config import RunConfig, merge
from advisor.errors import ConfigError
from benchmarks.harness import Harness
from tiny import cpu_device, tiny_provider, write_tiny_task

ray = pytest.importorskip("ray")

from benchmarks.executors import RayExecutor, init_ray, make_executor  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    init_ray(num_cpus=2)
    yield
    ray.shutdown()


def _config(tmp_path: Path, runs: str, **extra) -> RunConfig:
    task = tmp_path / "task"
    if not task.exists():
        write_tiny_task(task)
    data = {
        "task": str(task),
        "strategies": ["prompt", "rag", "sft", "sft+rag"],
        "seeds": [0, 1],
        "runs_dir": str(tmp_path / runs),
        "generation": {"max_new_tokens": 4, "batch_size": 2},
        "sft": {"max_steps": 2, "context_share": 0.5},
        **extra,
    }
    return merge(RunConfig(), data)


def _run(config: RunConfig, executor=None):
    return Harness(config, models=tiny_provider(), device=cpu_device(), executor=executor).run()


def _answers(run: Path) -> dict[tuple[str, str], str]:
    lines = (run / "answers.jsonl").read_text().splitlines()
    return {(r["unit"], r["id"]): r["answer"] for r in map(json.loads, lines)}


def _scores(outcome) -> dict[str, float]:
    return {n: e["overall"]["score"]["mean"] for n, e in outcome.scores["strategies"].items()}


def test_a_sweep_on_ray_gives_the_serial_runs_answers_and_keeps_dependency_order(
    tmp_path: Path, cluster
) -> None:
    sweep = {"sweep": ["rag.top_k=1,2"]}  # a sweep works on Ray too: rag and sft+rag twice
    serial = _run(_config(tmp_path, "serial", **sweep))
    executor = RayExecutor()
    on_ray = _run(_config(tmp_path, "ray", **sweep), executor)
    answers = _answers(on_ray.run_dir)
    assert len(answers) == 2 * (1 + 2 + 2 + 2) * 6 and answers == _answers(serial.run_dir)
    assert _scores(on_ray) == _scores(serial)
    assert json.loads((on_ray.run_dir / "manifest.json").read_text())["status"] == "complete"
    events = executor.events
    for seed in (0, 1):  # sft+rag answers with sft's adapter: submitted once sft finished
        for k in (1, 2):
            finished = events.index(("finished", f"sft(rag.top_k={k})-seed{seed}"))
            submitted = events.index(("submitted", f"sft+rag(rag.top_k={k})-seed{seed}"))
            assert submitted > finished
    # ... while the units that share nothing ran side by side
    assert events.index(("submitted", "prompt-seed1")) < events.index(("finished", "prompt-seed0"))
    reused = json.loads(
        (on_ray.run_dir / "strategies/sft+rag(rag.top_k=1)-seed0/prepare.json").read_text()
    )
    assert reused["prepare"]["details"]["resumed"] is True  # the adapter sft saved, not retrained


def _busy_workers() -> list[int]:
    """Ray worker processes executing a unit now (Ray titles them after the task)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("ray::_unit_on_worker"):
            found.append(int(entry.name))
    return found


def test_a_worker_killed_mid_sweep_loses_no_finished_unit_and_the_sweep_completes(
    tmp_path: Path, cluster
) -> None:
    extra = {"strategies": ["prompt", "sft"], "sft": {"max_steps": 60}}
    serial = _run(_config(tmp_path, "serial", **extra))
    executor = RayExecutor()
    killed: list[tuple[int, list[str]]] = []

    def kill_one_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            finished = [key for event, key in executor.events if event == "finished"]
            busy = _busy_workers()
            if finished and busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append((busy[0], finished))
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_busy_worker, daemon=True)
    killer.start()
    outcome = _run(_config(tmp_path, "ray", **extra), executor)
    killer.join()
    assert killed, "no worker was busy after the first unit finished"
    assert all(r.scored for r in outcome.results)
    lines = (outcome.run_dir / "answers.jsonl").read_text().splitlines()
    assert len(lines) == len(set(lines)) == 2 * 2 * 6  # every unit once: none lost, none twice
    assert _answers(outcome.run_dir) == _answers(serial.run_dir)
    submitted = [key for event, key in executor.events if event == "submitted"]
    assert len(submitted) == len(set(submitted)) == 4  # Ray retried the killed unit itself
    assert set(killed[0][1]) <= {key for event, key in executor.events if event == "finished"}


def test_a_unit_that_fails_twice_is_reported_failed_and_the_others_are_kept(
    tmp_path: Path, cluster
) -> None:
    # no training example fits in 4 tokens: sft's prepare raises, on both attempts
    config = _config(
        tmp_path,
        "ray",
        strategies=["prompt", "sft"],
        seeds=[0],
        sft={"max_steps": 2, "max_length": 4},
    )
    executor = RayExecutor()
    outcome = _run(config, executor)
    by_unit = {r.unit.key: r for r in outcome.results}
    assert by_unit["prompt-seed0"].scored
    assert by_unit["sft-seed0"].status == "failed"
    assert "no training example fits in 4 tokens" in by_unit["sft-seed0"].reason
    assert (outcome.run_dir / "strategies/sft-seed0/error.log").is_file()
    assert ("failed", "sft-seed0") in executor.events
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["failed_units"] == ["sft-seed0"]


def test_asking_for_ray_without_it_gives_the_install_line(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ConfigError) as caught:
        make_executor("ray")
    assert "advisor[ray]" in caught.value.hint and caught.value.field == "--executor"


@pytest.mark.parametrize(
    ("name", "address", "message"),
    [("spark", None, "unknown executor 'spark'"), ("local", "auto", "needs --executor ray")],
)
def test_bad_executor_flags_are_refused(name: str, address: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_executor(name, address)
