"""`advisor compare`: run one task through every strategy and score them side by side."""

from __future__ import annotations

from pathlib import Path

import typer

from advisor.cli.common import console, friendly_errors


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@friendly_errors(interrupted="interrupted — run the same command to resume")
def compare(
    task: str = typer.Option(
        None,
        "--task",
        "-t",
        help="Built-in task name, path to a task folder, or 'all' (every built-in task but "
        "the larger variants such as banking-large, then one summary) [default: banking].",
    ),
    strategies: str = typer.Option(
        None,
        "--strategies",
        "-s",
        help="Comma-separated: prompt,fewshot,rag,sft,cpt,sft+rag,scratch (default: all).",
    ),
    profile: str = typer.Option(
        "standard",
        "--profile",
        "-p",
        help="quick (smoke run) | standard | full (3 seeds, longer training) | thorough (the "
        "fine-tuning study: sft and full_ft by train size and epochs on banking-large).",
    ),
    limit: int = typer.Option(None, "--limit", "-n", help="Score only the first N test items."),
    seed: int = typer.Option(None, "--seed", help="One seed for every strategy (default 0)."),
    seeds: str = typer.Option(
        None, "--seeds", help="Several seeds, e.g. 0,1,2: scores become mean ± std."
    ),
    train_sizes: str = typer.Option(
        None,
        "--train-sizes",
        help="Also re-train sft and full_ft (those in the run; sft when neither is) on "
        "subsets, e.g. 100,300,1000,all: the learning curve.",
    ),
    sweep: list[str] = typer.Option(
        None,
        "--sweep",
        help="Run each value of a setting, e.g. --sweep sft.lora.r=8,16,32 (repeat the flag "
        "for more axes: their product runs). Only the strategies that read the setting "
        "run again; results show them as sft(sft.lora.r=8) and so on.",
    ),
    executor: str = typer.Option(
        "local",
        "--executor",
        help="local: one unit (strategy × seed × train size × variant) after another in this "
        "process. ray: each unit a Ray task on a local or remote cluster (pip install "
        "'advisor\\[ray]'); the results land in the same run folder.",
    ),
    ray_address: str = typer.Option(
        None,
        "--ray-address",
        help="With --executor ray: the cluster to join (e.g. ray://head:10001 or auto); "
        "default: start a local one on this machine's cores.",
    ),
    config_file: Path = typer.Option(
        None, "--config", "-c", help="A YAML config (e.g. a run's config.yaml)."
    ),
    runs_dir: Path = typer.Option(
        None, "--runs-dir", help="Where run folders go (default ./runs)."
    ),
    resume: Path = typer.Option(None, "--resume", help="Resume this unfinished run folder."),
    fresh: bool = typer.Option(
        False, "--fresh", help="Start a new run even if an unfinished one matches."
    ),
    allow_leakage: bool = typer.Option(
        False, "--allow-leakage", help="Accept test questions that appear in train."
    ),
    prices: Path = typer.Option(
        None, "--prices", help="Hourly price table (YAML) for the cost estimates."
    ),
    scenario: Path = typer.Option(
        None, "--scenario", help="Your constraints (a scenario YAML) for the final recommendation."
    ),
    overrides: list[str] = typer.Argument(
        None, help="Settings as key=value, e.g. sft.epochs=3 rag.top_k=5."
    ),
) -> None:
    """Run a task through every adaptation strategy on a real model and score them side by side.

    Writes runs/<timestamp>-<task>-<hash>/ with the resolved config, manifest (seeds, versions,
    device, git commit, content hashes), per-item answers, and scores (CSV and JSON). An
    interrupted run is resumed automatically when you run the same command again.

    Examples:  advisor compare --task banking --profile quick
               advisor compare -s prompt,rag -n 20 rag.top_k=5
               advisor compare -s sft,rag --seeds 0,1,2 --sweep sft.epochs=1,3
               advisor compare --executor ray --seeds 0,1
    """
    from advisor.config import resolve_config
    from benchmarks.compare import run_all_tasks, run_and_report

    settings = {
        "task": task,
        "strategies": _csv(strategies),
        "limit": limit,
        "seeds": _csv(seeds) or ([seed] if seed is not None else None),
        "train_sizes": _csv(train_sizes),
        "sweep": sweep or None,
        "runs_dir": str(runs_dir) if runs_dir else None,
        "allow_leakage": allow_leakage or None,
    }
    from benchmarks.executors import make_executor

    run = {
        "resume": resume if resume else not fresh,
        "prices_file": prices,
        "executor": make_executor(executor, ray_address),
    }
    if task == "all":
        from advisor.errors import ConfigError
        from advisor.tasks import is_task_variant, list_builtin_tasks

        if resume:
            raise ConfigError("--resume names one run; with --task all, rerun the same command")

        configs = [
            resolve_config(
                profile=profile,
                config_file=config_file,
                settings={**settings, "task": name},
                overrides=overrides,
            )
            for name in list_builtin_tasks()
            if not is_task_variant(name, list_builtin_tasks())
        ]
        run_all_tasks(configs, console, **run, scenario_file=scenario)
        return
    config = resolve_config(
        profile=profile, config_file=config_file, settings=settings, overrides=overrides
    )
    run_and_report(config, console, **run, scenario_file=scenario)
