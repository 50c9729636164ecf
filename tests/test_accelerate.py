"""`accelerate launch` with two CPU processes (gloo): the SFT adapter trains to the
single process's loss curve, and the run folder is one, written by rank 0."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "accelerate_run.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)


def test_two_processes_train_the_single_process_loss_curve_and_write_one_run(
    tmp_path: Path,
) -> None:
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if accelerate is None:
        pytest.skip("the accelerate command is not installed beside this python")
    single = _run([sys.executable, str(SCRIPT), str(tmp_path / "single"), "single.json"], tmp_path)
    assert single.returncode == 0, single.stderr[-3000:]
    launch = [
        accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(_free_port()),
    ]  # fmt: skip
    # each process also takes its rows one at a time (micro-batches, DDP's no_sync
    # for all but the last): still the single process's whole-batch step
    ddp = _run([*launch, str(SCRIPT), str(tmp_path / "ddp"), "ddp.json", "1"], tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one, two = (json.loads((tmp_path / f).read_text()) for f in ("single.json", "ddp.json"))
    assert len(one["losses"]) == len(two["losses"]) == 6
    assert two["losses"] == pytest.approx(one["losses"], abs=1e-4)
    # ... while each process computed its half of every batch (at most 2 of its <= 4 rows)
    assert (one["processes"], two["processes"]) == (1, 2)
    assert 6 <= two["local_rows"] <= 6 * 2
    assert two["answers"] == one["answers"]  # rank 0 answered everything, as one process does
    assert len(list((tmp_path / "ddp").iterdir())) == 1  # the follower wrote no run of its own
