"""Folders written whole or not at all (`atomic_dir`), the temporaries a killed
writer leaves (`remove_leftovers`), and the LoRA adapter folder saved through
them: a real SIGKILL half-way through peft's `save_pretrained` never leaves an
`adapter/` that looks complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.fileio import atomic_dir, atomic_writer, remove_leftovers

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def test_a_folder_appears_only_when_its_block_ends_well(tmp_path) -> None:
    target = tmp_path / "adapter"
    with pytest.raises(RuntimeError), atomic_dir(target) as staging:
        (staging / "weights.bin").write_bytes(b"half")
        raise RuntimeError("killed (pretend)")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary

    with atomic_dir(target) as staging:
        assert staging.parent == tmp_path and staging.name != target.name
        (staging / "weights.bin").write_bytes(b"old")
    assert (target / "weights.bin").read_bytes() == b"old"

    with atomic_dir(target) as staging:  # replacing a folder that is there
        (staging / "config.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["config.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_leftovers_of_dead_writers_go_and_live_ones_stay(tmp_path) -> None:
    dead = _dead_pid()
    (tmp_path / "strategies" / "sft-seed0").mkdir(parents=True)
    torn_file = tmp_path / f".scores.json.{dead}.0123abcd.tmp"
    torn_file.write_text('{"sche')
    torn_folder = tmp_path / "strategies" / "sft-seed0" / f".adapter.{dead}.89abcdef.tmp"
    (torn_folder / "inner").mkdir(parents=True)
    mine = tmp_path / f".report.md.{os.getpid()}.00000000.tmp"  # a live writer's
    mine.write_text("in progress")
    kept = [tmp_path / "scores.json", tmp_path / ".hidden.tmp", tmp_path / "notes.1.abcdefab.tmp"]
    for path in kept:
        path.write_text("{}")

    assert sorted(remove_leftovers(tmp_path)) == sorted([torn_file, torn_folder])
    assert not torn_file.exists() and not torn_folder.exists()
    assert mine.exists() and all(path.exists() for path in kept)


def test_atomic_writer_temporaries_are_what_remove_leftovers_finds(tmp_path) -> None:
    """The two agree on the name: a writer killed mid-block leaves exactly this."""
    with atomic_writer(tmp_path / "scores.json") as handle:
        handle.write("{}")
        (temporary,) = [p for p in tmp_path.iterdir() if p.name != "scores.json"]
    os.link(tmp_path / "scores.json", temporary)  # as if the rename had not happened
    renamed = temporary.with_name(temporary.name.replace(f".{os.getpid()}.", f".{_dead_pid()}."))
    temporary.rename(renamed)
    assert remove_leftovers(tmp_path) == [renamed]


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ---------------------------------------------------------------- the LoRA adapter

KILL_MID_SAVE = """
import os, signal, sys
from pathlib import Path

import peft.peft_model
from advisor.config import RunConfig
from strategies.training import TrainLog, add_lora, save_adapter
from tiny import tiny_llama, tiny_tokenizer

real_save = peft.peft_model.safe_save_file


def torn_save(tensors, filename, metadata=None):
    real_save(tensors, filename, metadata=metadata)
    data = Path(filename).read_bytes()
    Path(filename).write_bytes(data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)  # half the weights on disk, then gone


peft.peft_model.safe_save_file = torn_save
model = add_lora(tiny_llama(tiny_tokenizer(), seed=1), RunConfig().sft.lora, seed=1)
save_adapter(model, Path(sys.argv[1]), TrainLog(), key="new")
"""


def _kill_mid_save(folder: Path, tmp_path: Path) -> None:
    script = tmp_path / "kill_mid_save.py"
    script.write_text(KILL_MID_SAVE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    process = subprocess.run(
        [sys.executable, str(script), str(folder)], env=env, capture_output=True, text=True
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]


@pytest.mark.parametrize("before", ["no adapter yet", "an older adapter"])
def test_a_kill_mid_save_never_leaves_an_adapter_folder_that_looks_complete(
    tmp_path, before
) -> None:
    from advisor.config import RunConfig
    from strategies.training import (
        ADAPTER_DIR,
        TrainLog,
        add_lora,
        find_saved_adapter,
        save_adapter,
    )
    from tiny import tiny_llama, tiny_tokenizer

    folder = tmp_path / "strategies" / "sft-seed0"
    old = {}
    if before == "an older adapter":
        model = add_lora(tiny_llama(tiny_tokenizer()), RunConfig().sft.lora, seed=0)
        save_adapter(model, folder, TrainLog(), key="old")
        old = {p.name: p.read_bytes() for p in (folder / ADAPTER_DIR).iterdir()}

    _kill_mid_save(folder, tmp_path)

    adapter = folder / ADAPTER_DIR
    if old:  # the older adapter is still there, every file as it was
        assert {p.name: p.read_bytes() for p in adapter.iterdir()} == old
        assert find_saved_adapter([folder], "old") == folder
    else:
        assert not adapter.exists()
    assert find_saved_adapter([folder], "new") is None
    (leftover,) = remove_leftovers(folder)  # what a resumed run deletes at start
    assert leftover.name.startswith(f".{ADAPTER_DIR}.") and not leftover.exists()
