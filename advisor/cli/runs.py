"""`advisor runs`: list, show, compare, verify, remove and export benchmark run folders.

Everything is read from the run folders' own files; nothing heavy is imported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from advisor.cli.common import console, friendly_errors

app = typer.Typer(
    help="Work with benchmark runs: list, show, diff, verify, remove and export run folders.",
    no_args_is_help=True,
)

RUNS_DIR_HELP = "Where run folders are (default ./runs, as advisor compare uses)."
ID_HELP = "A run id, a unique prefix of it (or of its hash), or a run folder path."


def _runs_dir(runs_dir: Path | None) -> Path:
    """The folder `advisor compare` writes to when not told otherwise."""
    if runs_dir is not None:
        return runs_dir
    from advisor.config import RunConfig

    return Path(RunConfig().runs_dir)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@app.command("list")
@friendly_errors
def list_runs(
    runs_dir: Path = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    sort: str = typer.Option("date", "--sort", help="date | score | task | status | id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
) -> None:
    """One line per run: id (date, time, task, hash), status, best score, device/dtype, seeds, strategies."""
    from advisor.cli.run_views import runs_table
    from benchmarks.runs import list_runs as find_runs

    folder = _runs_dir(runs_dir)
    runs = find_runs(folder, sort)
    if as_json:
        _echo_json([run.to_dict() for run in runs])
    elif not runs:
        console.print(f"no runs in {folder} · make one with: advisor compare --profile quick")
    else:
        console.print(runs_table(runs, console.width))


@app.command("show")
@friendly_errors
def show(
    run_id: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    runs_dir: Path = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
) -> None:
    """A run's results tables, re-rendered from its files, with its config and manifest."""
    from advisor.cli.run_views import config_table, manifest_table
    from advisor.display import score_tables
    from benchmarks.runs import load_run, resolve_run, status_of

    run = load_run(resolve_run(_runs_dir(runs_dir), run_id))
    status = status_of(run.path, run.manifest)
    if as_json:
        _echo_json(
            {
                "id": run.id,
                "path": str(run.path),
                "status": status,
                "manifest": run.manifest,
                "config": run.config,
                "scores": run.scores,
            }
        )
        return
    console.print(manifest_table(run, status))
    console.print(config_table(run))
    if run.scores is None:
        console.print(f"no scores yet ({status}): run the same command again to finish it")
        return
    for table in score_tables(run.scores):
        console.print(table)


@app.command("diff")
@friendly_errors
def diff(
    run_a: str = typer.Argument(..., metavar="A", help=ID_HELP),
    run_b: str = typer.Argument(..., metavar="B", help=ID_HELP),
    runs_dir: Path = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    max_answers: int = typer.Option(10, "--max-answers", min=0, help="Changed answers to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
) -> None:
    """What differs between two runs: config, versions, device/dtype, hashes, scores, answers."""
    from advisor.cli.run_views import print_diff
    from benchmarks.runs import diff_runs, load_run, resolve_run

    folder = _runs_dir(runs_dir)
    a, b = (load_run(resolve_run(folder, ref), answers=True) for ref in (run_a, run_b))
    result = diff_runs(a, b)
    if as_json:
        _echo_json(result)
    else:
        print_diff(result, console, max_answers)


@app.command("verify")
@friendly_errors
def verify(
    run_id: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    runs_dir: Path = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
) -> None:
    """Re-run a finished run from its own config.yaml into a new folder and check it.

    Reports per strategy whether every answer is identical and whether the scores match;
    where they do not, the likely cause (device, dtype, package versions, code). Exit
    code 1 when the re-run differs. It takes as long as the run did.
    """
    from advisor.cli.run_views import print_verification
    from advisor.config import resolve_config
    from advisor.display import make_progress, phase_starter
    from benchmarks.harness import Harness
    from benchmarks.runs import RunError, load_run, resolve_run, verify_runs

    path = resolve_run(_runs_dir(runs_dir), run_id)
    original = load_run(path, answers=True)
    if original.scores is None:
        raise RunError(
            "the run has no scores yet: only a finished run can be verified",
            file=path,
            hint=f"finish it first: advisor compare --resume {path}",
        )
    profile = str((original.config or {}).get("profile") or "standard")
    config = resolve_config(profile=profile, config_file=path / "config.yaml")
    config.runs_dir = str(path.parent)
    with make_progress(console) as progress:
        outcome = Harness(config, start_phase=phase_starter(progress), resume=False).run()
    result = verify_runs(original, load_run(outcome.run_dir, answers=True))
    if as_json:
        _echo_json(result)
    else:
        print_verification(result, console)
    if not result["identical"]:
        raise typer.Exit(1)


@app.command("rm")
@friendly_errors
def rm(
    run_id: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    runs_dir: Path = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
) -> None:
    """Delete a run folder (asks first unless --yes; never one being written)."""
    from benchmarks.runs import remove_run, resolve_run

    path = resolve_run(_runs_dir(runs_dir), run_id)
    if not yes:
        typer.confirm(f"Delete {path} and everything in it?", default=False, abort=True)
    remove_run(path)
    if as_json:
        _echo_json({"removed": str(path)})
    else:
        console.print(f"removed {path}", highlight=False)


@app.command("export")
@friendly_errors
def export(
    run_id: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    to: str = typer.Option(
        ..., "--to", help="A folder (a local MLflow file store, made if missing) or a tracking URI."
    ),
    fmt: str = typer.Option("mlflow", "--format", help="mlflow (needs advisor[mlflow])."),
    experiment: str = typer.Option(
        None, "--experiment", help="MLflow experiment (default advisor-<task>)."
    ),
    runs_dir: Path = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
) -> None:
    """Write a run into a tracking tool: params from its config, metrics per strategy
    and kind, tags (id, hash, device, dtype, versions), the report, plots and scores
    as artifacts. Exporting it again replaces the earlier export (or, unchanged, skips)."""
    from benchmarks.export import export_run
    from benchmarks.runs import load_run, resolve_run

    run = load_run(resolve_run(_runs_dir(runs_dir), run_id))
    done = export_run(run, fmt, to, experiment=experiment)
    if as_json:
        _echo_json(done.to_dict())
        return
    if done.unchanged:
        console.print(
            f"{run.id} is already in {done.destination} as MLflow run {done.run_id} "
            f"(experiment {done.experiment}), unchanged: nothing to do",
            highlight=False,
            soft_wrap=True,
        )
        return
    again = f", replacing {done.replaced}" if done.replaced else ""
    lines = [
        f"exported {run.id} to {done.destination}",
        f"  experiment {done.experiment}, MLflow run {done.run_id}{again}",
        f"  {done.params} params, {done.metrics} metrics; artifacts {', '.join(done.artifacts)}",
    ]
    if done.destination.startswith("file:"):
        lines.append(
            "  see it: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri "
            + done.destination
        )
    console.print("\n".join(lines), highlight=False, soft_wrap=True)
