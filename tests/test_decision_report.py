"""The report in its three forms, and what `advisor compare` uses at the end of a run."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from advisor.decision import (
    Scenario,
    recommend,
    recommend_from_run,
    render_recommendation,
    to_html,
    to_markdown,
)
from advisor.decision.text import choose_option
from benchmarks.results import load_run_results

RUN = Path(__file__).parent / "data" / "decision" / "run_banking"


def _terminal(rec, **kwargs) -> str:
    console = Console(file=io.StringIO(), width=100, no_color=True)
    render_recommendation(rec, console, **kwargs)
    return console.file.getvalue()


def test_compare_can_print_the_recommendation_for_a_run():
    out = _terminal(recommend_from_run(load_run_results(RUN)))
    assert "Recommended: Retrieval-augmented generation (RAG) (rag)" in out
    assert "Measured cost" in out and "chosen" in out and "within band" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_terminal_report_without_evidence_has_no_measured_section():
    out = _terminal(recommend(Scenario(labeled_examples=12)))
    assert "Measured" not in out
    assert "Why fewshot" in out and "Tens of examples are too few" in out


def _choice():
    return choose_option(
        "We have 12 examples of the JSON we want.",
        {"A": "Put the examples | all of them | in the prompt", "B": "Fine-tune on <b>them</b>"},
    )


def test_markdown_sections_and_escaping():
    choice = _choice()
    md = to_markdown(choice.recommendation, choice=choice)
    for heading in (
        "## What I understood",
        "## Scenario",
        "## Ranking",
        "## Why fewshot",
        "## Answer options",
    ):
        assert heading in md
    assert "| A ← | Put the examples \\| all of them \\| in the prompt | fewshot | #1 |" in md
    assert "## Measured" not in md


def test_html_escapes_text_and_marks_the_top_row():
    choice = _choice()
    html = to_html(choice.recommendation, choice=choice)
    assert "Fine-tune on &lt;b&gt;them&lt;/b&gt;" in html and "<b>them</b>" not in html
    assert '<tr class="top">' in html
    assert '<span class="badge recommended">recommended</span>' in html


def test_html_with_evidence_embeds_both_plots_as_svg():
    html = to_html(recommend_from_run(load_run_results(RUN)))
    assert html.count("<figure") == 2 and html.count("<svg") == 2


def test_the_cli_module_imports_nothing_heavy():
    code = (
        "import sys, advisor.cli; "
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_decision_package_imports_nothing_heavy():
    code = (
        "import sys, advisor.decision; "
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_report_names_each_cost_for_what_it_is_and_states_the_break_even():
    rec = recommend_from_run(load_run_results(RUN), queries_per_month=2500)
    md = to_markdown(rec)
    assert "| strategy | score | noise band |" in md and "latency s" not in md
    assert "| train s | p50 s | p95 s | answers/s | prompt tok | $/1k q | status |" in md
    assert (
        "| rag | 0.71 ± 0.02 |" in md and "| 0 | 1.52 | 1.90 | 2.8 | 310 | 0.010 | chosen |" in md
    )
    assert "## Break-even against rag" in md
    assert (
        "| sft | $0.0114 | $0.0040 | $0.0100 | 1,911 | above break-even: repaid in 22.9 days |"
        in md
    )
    assert "| sft+rag | $0.0119 | $0.0110 | $0.0100 | never | never repaid |" in md
    html = to_html(rec)
    assert "Break-even against rag" in html and "at 2,500/month" in html
    out = _terminal(rec)
    assert "Break-even against rag" in out and max(len(line) for line in out.splitlines()) <= 100


def test_the_plot_puts_score_against_the_p95_of_single_questions():
    from advisor.decision.plots import score_vs_cost

    figure = score_vs_cost(load_run_results(RUN))
    assert figure.axes[1].get_xlabel() == "per-query latency, p95 (s, one question alone)"


def test_a_run_made_before_per_query_latency_still_reads_sensibly(tmp_path):
    """Its `latency_s` is the wall time of a batch: shown nowhere as a latency."""
    import json
    import shutil

    from advisor.decision.plots import score_vs_cost

    old = tmp_path / "old"
    shutil.copytree(RUN, old)
    data = json.loads((old / "scores.json").read_text())
    data.pop("hourly_usd")
    for entry in data["strategies"].values():
        cost = entry["cost"]
        cost["latency_s"] = 12.0 + cost.pop("latency_p95_s")
        for key in ("latency_p50_s", "latency_n", "answers_per_s", "answer_tokens_per_s"):
            cost.pop(key)
    (old / "scores.json").write_text(json.dumps(data))
    results = load_run_results(old)
    md = to_markdown(recommend_from_run(results))
    assert "| 0 | — | — | 2.8 | 310 | 0.010 | chosen |" in md  # throughput from answer time
    assert "## Break-even against rag" in md and "from the shipped price table" in md
    xlabel = score_vs_cost(results).axes[1].get_xlabel()
    assert xlabel == "answering time per query at the run's batch size (s)"

    from rich.console import Console

    from advisor.display import cost_table

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(cost_table(data))
    text = console.export_text()
    assert "p50/p95: not measured in this run" in text
    assert "13.90" not in text  # the old batch wall time of rag, nowhere as a latency
