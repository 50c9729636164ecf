"""`advisor runs export --format mlflow` into a real local MLflow store, read back
with MLflow's own client: params, metrics per strategy and kind, tags, artifacts."""

from __future__ import annotations

import io
import json
import shutil
import sys
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from advisor.cli import app
from advisor.config import RunConfig, merge
from benchmarks import manifest as mf
from benchmarks.compare import run_and_report
from tiny import cpu_device, tiny_provider, write_tiny_task

runner = CliRunner()


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished tiny run with two seeds (so stds exist), its report and plots."""
    root = tmp_path_factory.mktemp("export")
    data = {
        "task": str(write_tiny_task(root / "task")),
        "strategies": ["prompt", "rag"],
        "seeds": [0, 1],
        "runs_dir": str(root / "runs"),
        "generation": {"max_new_tokens": 6, "batch_size": 1},
    }
    outcome = run_and_report(
        merge(RunConfig(), data),
        Console(file=io.StringIO()),
        models=tiny_provider(),
        device=cpu_device(),
    )
    return outcome.run_dir


def _export(run_dir: Path, to: str, *extra: str):
    return runner.invoke(
        app,
        ["runs", "export", run_dir.name, "--to", to, "--runs-dir", str(run_dir.parent), *extra],
    )


def _client(store: Path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for it
    return mlflow.tracking.MlflowClient(tracking_uri=store.as_uri())


def _exported_runs(client, run_dir: Path) -> list:
    experiment = client.get_experiment_by_name("advisor-tiny")
    return client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`advisor.run_id` = '{run_dir.name}'"
    )


def test_export_writes_the_run_into_a_local_mlflow_store(finished, tmp_path, monkeypatch):
    store = tmp_path / "mlruns"
    result = _export(finished, store.as_uri())
    assert result.exit_code == 0, result.output
    assert f"exported {finished.name} to {store.as_uri()}" in result.output

    client = _client(store, monkeypatch)
    (exported,) = _exported_runs(client, finished)
    assert exported.info.run_name == finished.name and exported.info.status == "FINISHED"
    manifest = json.loads((finished / "manifest.json").read_text(encoding="utf-8"))
    assert exported.info.start_time == int(
        datetime.fromisoformat(manifest["created"]).timestamp() * 1000
    )

    params = exported.data.params
    config = mf.flatten(mf.read_config(finished))
    assert params["generation.max_new_tokens"] == "6" and params["strategies"] == "prompt, rag"
    assert params["seeds"] == "0, 1" and params["sft.lora.r"] == str(config["sft.lora.r"])
    assert set(params) == set(config)

    metrics = exported.data.metrics
    scores = json.loads((finished / "scores.json").read_text(encoding="utf-8"))
    for strategy, entry in scores["strategies"].items():
        for kind, values in [("overall", entry["overall"]), *entry["by_kind"].items()]:
            assert metrics[f"{strategy}.{kind}.score"] == values["score"]["mean"]
            assert metrics[f"{strategy}.{kind}.score_std"] == values["score"]["std"]
        assert metrics[f"{strategy}.cost.peak_memory_mb"] == entry["cost"]["peak_memory_mb"]
    assert {"seen", "unseen", "style", "out_of_scope", "drift"} <= {
        name.split(".")[1] for name in metrics if name.startswith("rag.")
    }

    tags = exported.data.tags
    assert tags["advisor.run_id"] == finished.name
    assert tags["advisor.config_hash"] == manifest["config_hash"]
    assert (tags["advisor.device"], tags["advisor.dtype"]) == ("cpu", "float32")
    assert tags["advisor.status"] == "complete" and tags["advisor.task"] == "tiny"
    assert tags["advisor.version.torch"] == manifest["versions"]["torch"]

    names = {a.path for a in client.list_artifacts(exported.info.run_id)}
    assert {"report.md", "report.html", "plots", "scores.json", "config.yaml"} <= names
    assert {"manifest.json", "answers.jsonl", "item_scores.csv"} <= names
    plots = {a.path for a in client.list_artifacts(exported.info.run_id, "plots")}
    assert plots == {"plots/score_by_kind.png", "plots/score_vs_cost.png"}
    local = Path(client.download_artifacts(exported.info.run_id, "plots", str(tmp_path / "got")))
    assert (local / "score_by_kind.png").read_bytes() == (
        finished / "plots" / "score_by_kind.png"
    ).read_bytes()


def test_exporting_again_skips_an_unchanged_run_and_replaces_a_changed_one(
    finished, tmp_path, monkeypatch
):
    store = tmp_path / "mlruns"
    assert _export(finished, str(store)).exit_code == 0  # a plain folder works too
    client = _client(store, monkeypatch)
    (first,) = _exported_runs(client, finished)

    again = _export(finished, str(store))
    assert again.exit_code == 0 and "unchanged: nothing to do" in again.output
    assert [r.info.run_id for r in _exported_runs(client, finished)] == [first.info.run_id]

    changed = tmp_path / "changed" / finished.name  # a copy with another report
    shutil.copytree(finished, changed)
    (changed / "report.md").write_text("# a rewritten report\n", encoding="utf-8")
    third = _export(changed, str(store))
    assert third.exit_code == 0 and f"replacing {first.info.run_id}" in third.output
    (now,) = _exported_runs(client, finished)
    assert now.info.run_id != first.info.run_id
    assert client.get_run(first.info.run_id).info.lifecycle_stage == "deleted"


def test_export_as_json_for_scripts(finished, tmp_path) -> None:
    pytest.importorskip("mlflow")
    result = _export(finished, str(tmp_path / "mlruns"), "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert done["experiment"] == "advisor-tiny" and done["destination"].startswith("file:")
    assert done["params"] > 40 and done["metrics"] > 100 and "report.md" in done["artifacts"]


def test_without_mlflow_the_export_says_how_to_install_it(finished, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` now fails
    result = _export(finished, str(tmp_path / "mlruns"))
    assert result.exit_code == 1
    assert result.output.strip() == "error: MLflow is not installed: pip install 'advisor[mlflow]'"
    assert not (tmp_path / "mlruns").exists()


def test_an_unscored_run_or_an_unknown_format_is_refused(finished, tmp_path) -> None:
    unscored = tmp_path / "runs" / finished.name
    unscored.mkdir(parents=True)
    (unscored / "manifest.json").write_text(json.dumps({"run_id": unscored.name}))
    result = _export(unscored, str(tmp_path / "mlruns"))
    assert result.exit_code == 1 and "only a scored run can be exported" in result.output
    result = _export(finished, str(tmp_path / "mlruns"), "--format", "wandb")
    assert result.exit_code == 1 and "unknown export format 'wandb'" in result.output
    assert "one of: mlflow" in result.output
