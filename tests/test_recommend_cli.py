"""`advisor recommend` through the real app: flags, files, --text, --from-run, formats, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app

DATA = Path(__file__).parent / "data" / "decision"
RUN = DATA / "run_banking"
EXAMPLE = Path(__file__).parent.parent / "advisor" / "decision" / "examples" / "banking.yaml"

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["recommend", *args])


def test_from_flags():
    result = run("labeled_examples=100", "gaps=tone", "label_quality=high")
    assert result.exit_code == 0, result.output
    assert "Recommended: Supervised fine-tuning (LoRA) (sft)" in result.output
    assert "behaviour-with-examples" in result.output
    assert "What would change the verdict" in result.output


def test_from_a_yaml_file_with_an_override():
    result = run(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "Recommended: RAG + fine-tuning (sft+rag)" in result.output
    changed = run(str(EXAMPLE), "labeled_examples=12")
    assert "Recommended: Retrieval-augmented generation (RAG) (rag)" in changed.output


def test_from_text_shows_what_it_understood():
    result = run(
        "--no-embed", "--text", "Our policy documents change weekly and answers must cite them."
    )
    assert result.exit_code == 0, result.output
    assert "What I understood" in result.output
    assert "weekly" in result.output and "citations or audit trail" in result.output
    assert "Recommended: Retrieval-augmented generation (RAG) (rag)" in result.output


def test_text_with_options_picks_one():
    result = run(
        "--no-embed",
        "--text",
        "A company has 12 examples of the answer format it wants, and needs it this week.",
        "-O",
        "A=Fine-tune the model on the examples",
        "-O",
        "B: Put the examples in the prompt",
        "-O",
        "C) Build a new foundation model",
    )
    assert result.exit_code == 0, result.output
    assert "Answer: B: Put the examples in the prompt (fewshot)" in result.output


def test_from_run():
    result = run("--from-run", str(RUN), "knowledge_changes=weekly")
    assert result.exit_code == 0, result.output
    assert "Recommended: Retrieval-augmented generation (RAG) (rag)" in result.output
    assert "rag scores 0.71 ± 0.02 vs 0.73 ± 0.03 for sft+rag" in result.output
    assert "Measured: run 20261125-163000-banking-1a2b3c4d" in result.output
    assert "Measured cost" in result.output


def test_markdown_report_with_plots(tmp_path):
    out = tmp_path / "report.md"
    result = run("--from-run", str(RUN), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Recommended: Retrieval-augmented generation (RAG) (rag)")
    assert "## Measured (run `20261125-163000-banking-1a2b3c4d`)" in text
    assert "![score by kind](report_plots/score_by_kind.png)" in text
    assert (tmp_path / "report_plots" / "score_by_kind.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "report_plots" / "score_vs_cost.png").is_file()


def test_html_report_is_standalone(tmp_path):
    out = tmp_path / "report.html"
    result = run("--from-run", str(RUN), "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert html.count("<svg") == 2 and "@media print" in html
    assert 'src="http' not in html and 'href="http' not in html


def test_markdown_to_stdout():
    result = run("--format", "md", "compute=cpu")
    assert result.exit_code == 0
    assert result.output.startswith("# Recommended: Prompt engineering (prompt)")
    assert "| # | approach | verdict |" in result.output


def test_terminal_report_to_a_file(tmp_path):
    out = tmp_path / "report.txt"
    result = run("compute=cpu", "-o", str(out))
    assert result.exit_code == 0
    assert "Recommended: Prompt engineering" in out.read_text()


def test_no_input_is_a_helpful_error():
    result = run()
    assert result.exit_code == 1
    assert "no scenario given" in result.output
    assert "advisor recommend --text" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("labled_examples=3",), "field 'labled_examples': unknown field"),
        (("compute=tpu",), "field 'compute': expected one of api_only, cpu"),
        (("nonsense",), "'nonsense' is neither a scenario file nor field=value"),
        (("--format", "pdf", "compute=cpu"), "unknown format 'pdf'"),
        (("-O", "A=Fine-tune", "compute=cpu"), "answer options need the question"),
        (("--from-run", "no/such/run"), "no scores.json here"),
        (
            ("--from-run", str(RUN), "--queries-per-month", "-3"),
            "field '--queries-per-month': expected a positive number of queries a month, got -3",
        ),
        (
            ("compute=cpu", "--queries-per-month", "1000"),
            "field '--queries-per-month': needs a benchmark run",
        ),
        (("compute=cpu", "--prices", "prices.yaml"), "field '--prices': needs a benchmark run"),
        (("--from-run", str(RUN), "--prices", "no/such.yaml"), "price table not found"),
    ],
)
def test_bad_input_errors(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text("compute: cpu\nlabeled_examples: lots\n")
    result = run(str(path))
    assert result.exit_code == 1
    assert (
        f"{path}:2: field 'labeled_examples': expected a whole number, got 'lots'" in result.output
    )


def test_help_lists_the_ways_to_call_it():
    result = runner.invoke(app, ["recommend", "--help"])
    assert result.exit_code == 0
    for flag in ("--text", "--from-run", "--format", "--option", "--output"):
        assert flag in result.output


def test_break_even_from_a_run_at_the_users_prices_and_volume(tmp_path):
    result = run("--from-run", str(RUN), "--queries-per-month", "2500")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Break-even against rag" in out and "at 2,500/month" in out
    assert "At $0.10 per CPU hour, the price the run used" in out
    assert "sft $0.0114 $0.0040 $0.0100 1,911 above break-even" in out
    assert "sft+rag $0.0119 $0.0110 $0.0100 never never repaid" in out
    assert "cpt $0.0182 $0.0040 $0.0100 3,038 below break-even: repaid after 1.2 months" in out

    prices = tmp_path / "prices.yaml"
    prices.write_text("cpu_hour_usd: 1.00\ngpu_hour_usd: 3.00\n")
    result = run("--from-run", str(RUN), "--prices", str(prices))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"At $1.00 per CPU hour, from {prices}" in out
    # ten times the price: ten times the training cost and the saving, the same volume
    assert "sft $0.1144 $0.0400 $0.0999 1,911" in out
    assert "Add --queries-per-month N" in out
