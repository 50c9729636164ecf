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
