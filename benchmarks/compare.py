"""`advisor compare` end to end: progress bars, the harness, the tables, the report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from advisor.config import RunConfig
from advisor.display import make_progress, phase_starter, score_tables
from advisor.fileio import write_text_atomic
from benchmarks.harness import Harness, RunOutcome

if TYPE_CHECKING:
    from advisor.decision import Scenario


def run_and_report(
    config: RunConfig,
    console: Console,
    *,
    resume: bool | Path = True,
    prices_file: Path | None = None,
    scenario_file: Path | None = None,
    **harness_options: Any,
) -> RunOutcome | None:
    """Run `config` and write its report; the report is part of the run, so a
    run killed while it is written resumes to write it (see `Harness.finish`).
    `harness_options` go to the `Harness` (tests pass tiny models)."""
    from advisor.decision import Scenario, load_scenario_file
    from strategies.distributed import is_main_process

    if not is_main_process():  # a follower of `accelerate launch`: rank 0 prints
        console = Console(quiet=True)
    # read the constraints first: a bad scenario file fails now, not after the run
    scenario = load_scenario_file(scenario_file) if scenario_file else Scenario()
    console.print(
        f"[bold]advisor compare[/] task [bold]{config.task}[/] · profile {config.profile} · "
        f"strategies {', '.join(config.strategies) or 'the defaults for its type'} · "
        f"seeds {', '.join(map(str, config.seeds))}"
        + (f" · first {config.limit} items" if config.limit else "")
    )
    with make_progress(console) as progress:

        def finish(outcome: RunOutcome) -> None:
            progress.stop()  # the tables and the recommendation print below the bars
            print_results(outcome, console)
            recommend_and_report(outcome, console, scenario)

        harness = Harness(
            config,
            start_phase=phase_starter(progress),
            log=lambda message: progress.console.print(f"[dim]{message}[/]"),
            resume=resume,
            prices_file=prices_file,
            finish=finish,
            **harness_options,
        )
        return harness.run()


def recommend_and_report(outcome: RunOutcome, console: Console, scenario: Scenario) -> None:
    """The decision engine reads the measured table (and the team's constraints,
    when given) and the run folder gets the report as Markdown and HTML."""
    from advisor.decision import (
        recommend_from_run,
        render_recommendation,
        to_html,
        to_markdown,
    )
    from benchmarks.results import load_run_results

    recommendation = recommend_from_run(load_run_results(outcome.run_dir), scenario)
    console.rule("recommendation")
    render_recommendation(recommendation, console, show_rules=False)
    run_dir = outcome.run_dir
    write_text_atomic(
        run_dir / "report.md", to_markdown(recommendation, plots_dir=run_dir / "plots")
    )
    write_text_atomic(
        run_dir / "report.html", to_html(recommendation, title=f"advisor: {run_dir.name}")
    )
    console.print(
        f"Report: [bold]{run_dir / 'report.md'}[/] and report.html · "
        f"with your constraints: advisor recommend --from-run {run_dir} scenario.yaml"
    )


def print_results(outcome: RunOutcome, console: Console) -> None:
    scores = outcome.scores
    console.print()
    for table in score_tables(scores):
        console.print(table)
    device = scores["device"]
    console.print(
        f"[dim]device {device['device']} ({device['name']}), {device['dtype']}; "
        f"{next(iter(scores['strategies'].values()))['n_items']} test items; "
        f"score = {scores.get('score_means', 'the primary metric')}[/]"
    )
    console.print(f"Run folder: [bold]{outcome.run_dir}[/]")


def run_all_tasks(configs: list[RunConfig], console: Console, **kwargs) -> list[RunOutcome]:
    """`advisor compare --task all`: every built-in task in turn, then one summary —
    the score of every strategy on every task and the recommendation for each."""
    from advisor.display import all_tasks_table

    outcomes, verdicts = [], {}
    for config in configs:
        console.rule(f"task {config.task}")
        outcome = run_and_report(config, console, **kwargs)
        if outcome is None:  # a follower rank of a multi-process launch
            continue
        outcomes.append(outcome)
        verdicts[outcome.scores["task"]] = _chosen(outcome)
    console.rule("every built-in task")
    console.print(all_tasks_table([o.scores for o in outcomes], verdicts))
    return outcomes


def _chosen(outcome: RunOutcome) -> str:
    from advisor.decision import recommend_from_run
    from benchmarks.results import load_run_results

    recommendation = recommend_from_run(load_run_results(outcome.run_dir))
    return recommendation.top.approach
