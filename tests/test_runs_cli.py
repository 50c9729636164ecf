"""`advisor runs` through the real app, on run folders made by tiny harness runs.

The runs are made once for the module: A (fp32), B (the same in bf16), C (A
with shorter answers), a run with a failed strategy and an interrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.config import RunConfig, merge
from benchmarks import lock
from benchmarks.harness import Harness
from benchmarks.runs import STATUSES
from strategies import registry
from strategies.prompting import PromptStrategy
from tiny import HashEmbedder, cpu_device, lively_llama, tiny_tokenizer, write_tiny_task

runner = CliRunner()


class BrokenStrategy(PromptStrategy):
    name = "broken"

    def prepare(self, ctx):
        raise RuntimeError("out of memory (pretend)")


def _provider():
    from advisor.models import ModelProvider

    tokenizer = tiny_tokenizer()
    return ModelProvider.from_objects(
        lively_llama(tokenizer), tokenizer, HashEmbedder(), cpu_device()
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs-cli")
    task = write_tiny_task(root / "task")
    runs_dir = root / "runs"

    def run(device=None, strategies=("prompt", "rag"), **extra) -> Path:
        data = {
            "task": str(task),
            "strategies": list(strategies),
            "runs_dir": str(runs_dir),
            "generation": {"max_new_tokens": 6, "batch_size": 1},
            **extra,
        }
        harness = Harness(
            merge(RunConfig(), data), models=_provider(), device=device or cpu_device()
        )
        return harness.run().run_dir

    made = {
        "a": run(),
        "b": run(device=dataclasses.replace(cpu_device(), dtype="bfloat16")),
        "c": run(generation={"max_new_tokens": 2, "batch_size": 1}),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.REGISTRY, "broken", "test_runs_cli:BrokenStrategy")
        made["failed"] = run(strategies=("prompt", "broken"))
    # an interrupted run: its manifest still says running, it has no scores yet
    made["unfinished"] = run(limit=2)
    manifest = json.loads((made["unfinished"] / "manifest.json").read_text())
    (made["unfinished"] / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    (made["unfinished"] / "scores.json").unlink()
    return {"dir": runs_dir, **made}


def cli(runs: dict[str, Path], *args: str, **kwargs):
    return runner.invoke(app, ["runs", *args, "--runs-dir", str(runs["dir"])], **kwargs)


def _json(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ---------------------------------------------------------------- list


def test_list_has_one_line_per_run_with_its_status(runs) -> None:
    result = cli(runs, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "status", "best"] and len(lines) == 1 + 5
    by_id = {line.split()[0]: line.split() for line in lines[1:]}
    assert by_id[runs["a"].name][1] == "complete" and "cpu/fp32" in by_id[runs["a"].name]
    assert "cpu/bf16" in by_id[runs["b"].name]
    assert by_id[runs["failed"].name][1] == "failed"
    assert by_id[runs["unfinished"].name][1] == "unfinished"
    assert "Traceback" not in result.output


def test_list_json_for_scripts(runs) -> None:
    listed = _json(cli(runs, "list", "--json"))
    assert {r["id"]: r["status"] for r in listed} == {
        runs["a"].name: "complete",
        runs["b"].name: "complete",
        runs["c"].name: "complete",
        runs["failed"].name: "failed",
        runs["unfinished"].name: "unfinished",
    }
    a = next(r for r in listed if r["id"] == runs["a"].name)
    assert a["task"] == "tiny" and a["strategies"] == ["prompt", "rag"] and a["seeds"] == [0]
    assert (a["device"], a["dtype"]) == ("cpu", "float32") and a["best"] in ("prompt", "rag")
    scores = json.loads((runs["a"] / "scores.json").read_text())["strategies"]
    assert a["score"] == max(s["overall"]["score"]["mean"] for s in scores.values())


@pytest.mark.parametrize("key", ["date", "score", "task", "status", "id"])
def test_list_sorts(runs, key: str) -> None:
    listed = _json(cli(runs, "list", "--json", "--sort", key))
    if key == "score":
        values = [r["score"] for r in listed if r["score"] is not None]
        assert values == sorted(values, reverse=True) and listed[-1]["score"] is None
    elif key == "date":
        assert [r["created"] for r in listed] == sorted(
            (r["created"] for r in listed), reverse=True
        )
    elif key == "status":
        order = [STATUSES.index(r["status"]) for r in listed]
        assert order == sorted(order) and listed[0]["status"] == "complete"
    elif key == "id":
        assert [r["id"] for r in listed] == sorted(r["id"] for r in listed)


def test_list_unknown_sort_key_is_an_error(runs) -> None:
    result = cli(runs, "list", "--sort", "speed")
    assert result.exit_code == 1 and "unknown sort key 'speed'" in result.output
    assert "one of date, task, score, status, id" in result.output


def test_list_of_an_empty_folder_says_how_to_make_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_path / "none")])
    assert result.exit_code == 0 and "no runs in" in result.output


# ---------------------------------------------------------------- show


def test_show_rerenders_the_tables_from_the_files(runs) -> None:
    result = cli(runs, "show", runs["a"].name[:-2])
    assert result.exit_code == 0, result.output
    assert f"run {runs['a'].name}" in result.output
    assert "tiny: score by strategy and item kind" in result.output
    assert "cost (lower is better)" in result.output and "answer quality" in result.output
    assert (
        "config (the main settings)" in result.output
        and "generation.max_new_tokens" in result.output
    )
    assert "torch" in result.output and "cpu float32" in result.output


def test_show_a_path_and_json(runs) -> None:
    shown = _json(cli(runs, "show", str(runs["failed"]), "--json"))
    assert shown["status"] == "failed" and shown["manifest"]["failed_units"] == ["broken-seed0"]
    assert set(shown["scores"]["strategies"]) == {"prompt"}
    assert shown["config"]["strategies"] == ["prompt", "broken"]


def test_show_a_failed_run_says_why(runs) -> None:
    result = cli(runs, "show", runs["failed"].name)
    assert result.exit_code == 0 and "not scored" in result.output
    assert "out of memory (pretend)" in result.output


def test_show_an_unfinished_run(runs) -> None:
    result = cli(runs, "show", runs["unfinished"].name)
    assert result.exit_code == 0, result.output
    assert "no scores yet (unfinished)" in result.output


def test_an_ambiguous_prefix_lists_the_candidates(runs) -> None:
    common = os.path.commonprefix([runs["a"].name, runs["b"].name])[:8]
    result = cli(runs, "show", common)
    assert result.exit_code == 1
    assert f"'{common}' matches 5 runs" in result.output
    assert runs["a"].name in result.output and runs["b"].name in result.output
    assert "Traceback" not in result.output


def test_an_unknown_id_is_a_clear_error(runs) -> None:
    result = cli(runs, "show", "1999")
    assert result.exit_code == 1 and "no run matches '1999'" in result.output
    assert runs["unfinished"].name in result.output  # the newest are offered


def test_a_run_is_found_by_its_hash(runs) -> None:
    digest = runs["c"].name.rsplit("-", 1)[1]
    assert _json(cli(runs, "show", digest[:6], "--json"))["id"] == runs["c"].name


# ---------------------------------------------------------------- diff


def test_diff_flags_the_dtype_as_the_likely_cause(runs) -> None:
    result = cli(runs, "diff", runs["a"].name, runs["b"].name)
    assert result.exit_code == 0, result.output
    assert "likely cause: a different device or dtype (dtype float32 vs bfloat16)" in result.output
    assert "run hash" in result.output and "config " not in result.output.split("likely")[0]


def test_diff_names_the_config_change_and_the_answers_that_changed(runs) -> None:
    diff = _json(cli(runs, "diff", runs["a"].name, runs["c"].name, "--json"))
    assert diff["config"] == {"generation.max_new_tokens": [6, 2]}
    assert diff["machine"] == {} and diff["versions"] == {}
    assert diff["likely_causes"] == ["1 config setting(s) differ"]
    assert diff["answers_compared"] == 12
    assert diff["answers_changed"], "6 tokens against 2 must change some answers"
    change = diff["answers_changed"][0]
    assert change["a"] != change["b"] and change["a"].startswith(change["b"].strip()[:3])
    assert set(diff["scores"]) >= {"prompt", "rag", "rag · seen"}

    text = cli(runs, "diff", runs["a"].name, runs["c"].name, "--max-answers", "1").output
    assert "config generation.max_new_tokens" in text
    assert f"{len(diff['answers_changed'])} of 12 answers differ" in text


def test_diff_of_a_run_with_itself(runs) -> None:
    result = cli(runs, "diff", runs["a"].name, str(runs["a"]))
    assert result.exit_code == 0, result.output
    assert "same inputs" in result.output and "0 of 12 answers differ" in result.output


# ---------------------------------------------------------------- rm and damaged runs


@pytest.fixture
def own_runs(runs, tmp_path: Path) -> dict[str, Path]:
    """Copies of two runs in a runs folder this test may change."""
    folder = tmp_path / "runs"
    copies = {key: folder / runs[key].name for key in ("a", "b")}
    for key, copy in copies.items():
        shutil.copytree(runs[key], copy)
    return {"dir": folder, **copies}


def test_rm_asks_first(own_runs) -> None:
    result = cli(own_runs, "rm", own_runs["a"].name, input="n\n")
    assert result.exit_code == 1 and own_runs["a"].is_dir()
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "Aborted." in result.output
    result = cli(own_runs, "rm", own_runs["a"].name, input="y\n")
    assert result.exit_code == 0 and not own_runs["a"].exists() and own_runs["b"].is_dir()


def test_rm_yes_and_json(own_runs) -> None:
    removed = _json(cli(own_runs, "rm", own_runs["b"].name, "--yes", "--json"))
    assert removed == {"removed": str(own_runs["b"])} and not own_runs["b"].exists()


def test_rm_refuses_a_run_being_written(own_runs) -> None:
    with lock.locked(own_runs["a"]):
        result = cli(own_runs, "rm", own_runs["a"].name, "--yes")
        assert result.exit_code == 1 and f"locked by process {os.getpid()}" in result.output
    assert own_runs["a"].is_dir()


def test_a_damaged_manifest_is_listed_and_named(own_runs) -> None:
    (own_runs["a"] / "manifest.json").write_bytes(b'{"run_id": "\xff')
    listed = _json(cli(own_runs, "list", "--json"))
    assert {r["id"]: r["status"] for r in listed}[own_runs["a"].name] == "damaged"
    result = cli(own_runs, "show", own_runs["a"].name)
    assert result.exit_code == 1 and "manifest.json is missing or damaged" in result.output
    assert "Traceback" not in result.output


def test_a_run_held_by_a_live_process_is_listed_as_running(own_runs) -> None:
    manifest = json.loads((own_runs["a"] / "manifest.json").read_text())
    (own_runs["a"] / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    with lock.locked(own_runs["a"]):
        listed = _json(cli(own_runs, "list", "--json"))
    assert {r["id"]: r["status"] for r in listed}[own_runs["a"].name] == "running"
    after = _json(cli(own_runs, "list", "--json"))  # the lock released: unfinished, resumable
    assert {r["id"]: r["status"] for r in after}[own_runs["a"].name] == "unfinished"


def test_verify_a_rerun_from_the_runs_own_config_is_identical(runs, tmp_path) -> None:
    """The verify path: the run's config.yaml resolved again, a fresh run, compared
    answer by answer (the tiny model is deterministic, so it must be identical)."""
    from advisor.config import resolve_config
    from benchmarks.runs import load_run, verify_runs

    original = load_run(runs["a"], answers=True)
    config = resolve_config(profile="standard", config_file=runs["a"] / "config.yaml")
    config.runs_dir = str(tmp_path)
    again = Harness(config, models=_provider(), device=cpu_device(), resume=False).run()
    result = verify_runs(original, load_run(again.run_dir, answers=True))
    assert result["identical"], result
    assert {u["unit"].split("-seed")[0] for u in result["units"]} == {"prompt", "rag"}
    assert all(u["identical"] == u["items"] > 0 for u in result["units"])


def test_verify_names_what_differs_when_answers_change(runs) -> None:
    from benchmarks.runs import load_run, verify_runs

    result = verify_runs(load_run(runs["a"], answers=True), load_run(runs["c"], answers=True))
    assert not result["identical"]
    assert any(u["differ"] for u in result["units"])
    assert any("config setting" in cause for cause in result["likely_causes"])


def test_verify_refuses_an_unfinished_run(runs) -> None:
    result = cli(runs, "verify", runs["unfinished"].name)
    assert result.exit_code == 1
    assert "only a finished run can be verified" in result.output
    assert "Traceback" not in result.output
