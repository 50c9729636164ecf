"""A run's identity: everything that can change an answer is in its hash, and a
run folder made by other inputs is never resumed with these."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from advisor.config import RunConfig, merge
from advisor.errors import AdvisorError
from benchmarks import manifest as mf
from benchmarks.harness import Harness
from tiny import cpu_device, tiny_provider, write_tiny_task

VERSIONS = {
    "torch": "2.13.0",
    "transformers": "5.0.0",
    "peft": "0.18.0",
    "sentence-transformers": "5.1.0",
    "faiss": "1.12.0",
    "scikit-learn": "1.7.0",
}
CONFIG = {"task": "banking", "seeds": [0], "runs_dir": "runs", "sft": {"epochs": 2}}


def _identity(dtype: str = "float32", device: str = "cpu", **versions: str) -> dict:
    return mf.run_identity(
        task_hash="t1",
        model_hash="m1",
        device={"device": device, "dtype": dtype},
        versions={**VERSIONS, **versions},
    )


def test_same_inputs_give_the_same_hash() -> None:
    assert mf.config_hash(CONFIG, _identity()) == mf.config_hash(dict(CONFIG), _identity())


def test_where_results_go_is_not_part_of_the_identity() -> None:
    assert mf.config_hash(CONFIG, _identity()) == mf.config_hash(
        {**CONFIG, "runs_dir": "elsewhere"}, _identity()
    )


@pytest.mark.parametrize(
    "other",
    [
        _identity(dtype="bfloat16"),
        _identity(device="cuda:0"),
        _identity(torch="2.12.0"),
        _identity(transformers="4.57.0"),
        _identity(peft="0.17.1"),
        _identity(**{"sentence-transformers": "4.1.0"}),
        _identity(faiss="1.11.0"),
        _identity(**{"scikit-learn": "1.6.1"}),
    ],
    ids=["dtype", "device", "torch", "transformers", "peft", "st", "faiss", "sklearn"],
)
def test_what_changes_an_answer_changes_the_hash(other: dict) -> None:
    assert mf.config_hash(CONFIG, _identity()) != mf.config_hash(CONFIG, other)


def test_the_device_index_is_not_part_of_the_identity() -> None:
    assert _identity(device="cuda:0") == _identity(device="cuda:1")


def test_the_installed_versions_are_recorded() -> None:
    versions = mf.identity_versions()
    assert set(versions) == set(mf.IDENTITY_PACKAGES)
    assert versions["torch"] and versions["transformers"]


def test_differences_are_named_in_words() -> None:
    changes = mf.identity_differences(
        _identity(),
        _identity(dtype="bfloat16", torch="2.12.0"),
        CONFIG,
        {**CONFIG, "sft": {"epochs": 3}},
    )
    assert changes == [
        "dtype float32 → bfloat16",
        "torch 2.13.0 → 2.12.0",
        "config sft.epochs 2 → 3",
    ]


# ---------------------------------------------------------------- resume, on a tiny run


@pytest.fixture
def finished_run(tmp_path: Path) -> tuple[RunConfig, Path]:
    config = merge(
        RunConfig(),
        {
            "task": str(write_tiny_task(tmp_path / "task")),
            "strategies": ["prompt"],
            "runs_dir": str(tmp_path / "runs"),
            "limit": 2,
            "generation": {"max_new_tokens": 4, "batch_size": 1},
        },
    )
    outcome = Harness(config, models=tiny_provider(), device=cpu_device()).run()
    return config, outcome.run_dir


def test_the_manifest_records_the_identity(finished_run) -> None:
    _, run = finished_run
    manifest = json.loads((run / "manifest.json").read_text())
    identity = manifest["identity"]
    assert identity["device_type"] == "cpu" and identity["dtype"] == "float32"
    assert identity["versions"] == mf.identity_versions()
    assert mf.config_hash(mf.read_config(run), identity) == manifest["config_hash"]
    assert run.name.endswith(manifest["config_hash"])


def test_the_manifest_says_what_determinism_rests_on(finished_run) -> None:
    _, run = finished_run
    record = json.loads((run / "manifest.json").read_text())["determinism"]
    assert record["generation_batch_size"] == 1
    assert record["dtype"] == "float32" and record["device_type"] == "cpu"
    assert record["decoding"].startswith("greedy")
    assert any("batch size" in reason for reason in record["rests_on"])


def test_resume_in_another_dtype_is_refused_with_the_difference(finished_run) -> None:
    config, run = finished_run
    before = (run / "answers.jsonl").read_text()
    bf16 = dataclasses.replace(cpu_device(), dtype="bfloat16")
    harness = Harness(config, models=tiny_provider(), device=bf16, resume=run)
    with pytest.raises(AdvisorError) as caught:
        harness.run()
    message = str(caught.value)
    assert "cannot be resumed" in message and "dtype float32 → bfloat16" in message
    assert caught.value.hint and "without --resume" in caught.value.hint
    assert (run / "answers.jsonl").read_text() == before  # nothing written


def test_resume_under_another_package_version_is_refused(finished_run) -> None:
    """The folder as another machine (another torch) would have written it."""
    config, run = finished_run
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["identity"]["versions"]["torch"] = "0.0.1"
    manifest["config_hash"] = mf.config_hash(mf.read_config(run), manifest["identity"])
    manifest["status"] = "running"
    (run / "manifest.json").write_text(json.dumps(manifest))
    harness = Harness(config, models=tiny_provider(), device=cpu_device(), resume=run)
    with pytest.raises(AdvisorError, match=r"torch 0\.0\.1 → "):
        harness.run()
    # and the automatic resume does not pick that folder: a new run starts beside it
    outcome = Harness(config, models=tiny_provider(), device=cpu_device()).run()
    assert outcome.run_dir != run and not outcome.resumed


def test_resume_with_the_same_inputs_continues(finished_run) -> None:
    config, run = finished_run
    outcome = Harness(config, models=tiny_provider(), device=cpu_device(), resume=run).run()
    assert outcome.run_dir == run and outcome.resumed
