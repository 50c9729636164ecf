"""What `advisor recommend` does between parsing its flags and printing: combine the
inputs (a scenario file, free text, `field=value` settings, a benchmark run) into
one recommendation, and write the report in the asked-for format.

Kept out of the CLI module so the command stays short and this stays testable.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from advisor.decision.engine import recommend
from advisor.decision.recommendation import Recommendation
from advisor.decision.scenario import Scenario, apply_overrides, load_scenario_file
from advisor.errors import ScenarioError
from advisor.fileio import make_parent, write_text_atomic

FORMATS = ("terminal", "md", "html")
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")

NO_INPUT_HINT = """give a scenario in one (or more) of these ways:
    advisor recommend labeled_examples=100 gaps=tone label_quality=high
    advisor recommend advisor/decision/examples/banking.yaml
    advisor recommend --text "We have 12 examples and want answers in our JSON format."
    advisor recommend --from-run runs/<run-id>"""


@dataclass(frozen=True)
class Request:
    """Everything `advisor recommend` was given."""

    inputs: tuple[str, ...] = ()  # a scenario file and/or field=value settings
    text: str | None = None
    options: tuple[str, ...] = ()  # "A=Fine-tune the model ..."
    run: Path | None = None
    embed: bool = True
    notes: list[str] = field(default_factory=list)
    prices: Path | None = None  # an hourly price table for the break-even (--prices)
    queries_per_month: int | None = None  # the user's volume, placed against break-even

    @property
    def empty(self) -> bool:
        return not (self.inputs or self.text or self.run)


def split_inputs(inputs: tuple[str, ...]) -> tuple[Path | None, list[str]]:
    """(scenario file, field=value settings) from the positional arguments."""
    files = [i for i in inputs if "=" not in i]
    settings = [i for i in inputs if "=" in i]
    if len(files) > 1:
        raise ScenarioError(
            f"more than one scenario file: {', '.join(files)}",
            hint="pass one file, then field=value settings",
        )
    if files and not files[0].lower().endswith(SCENARIO_SUFFIXES) and not Path(files[0]).is_file():
        raise ScenarioError(
            f"'{files[0]}' is neither a scenario file nor field=value",
            hint="for example: advisor recommend scenario.yaml compute=cpu",
        )
    return (Path(files[0]) if files else None), settings


_OPTION = re.compile(r"^\s*\(?([A-Za-z0-9]{1,2})\s*[)=:.]\s*(.+)$", re.S)


def parse_options(raw: tuple[str, ...]) -> dict[str, str]:
    """`A=text`, `A: text` or `A) text` → {"A": "text"}; bare texts get letters A, B, C..."""
    options: dict[str, str] = {}
    for i, item in enumerate(raw):
        match = _OPTION.match(item)
        letter, text = (
            (match.group(1).upper(), match.group(2).strip())
            if match
            else (chr(65 + i), item.strip())
        )
        if not text:
            raise ScenarioError(f"option {letter} is empty", field="--option")
        options[letter] = text
    return options


def _matcher(request: Request):
    """MiniLM for where the keywords fall short, unless turned off or not installed."""
    if not request.embed:
        return None
    from advisor.decision.matcher import MiniLMMatcher, minilm_installed

    if not minilm_installed():
        request.notes.append(
            "MiniLM is not installed (advisor models install); read the text by keywords only."
        )
        return None
    return MiniLMMatcher()


def build_recommendation(request: Request):
    """(Recommendation, OptionChoice or None) for everything in the request."""
    if request.empty:
        raise ScenarioError("no scenario given", hint=NO_INPUT_HINT)
    if request.options and not request.text:
        raise ScenarioError(
            "answer options need the question", field="--option", hint='add --text "..."'
        )
    path, settings = split_inputs(request.inputs)
    scenario = load_scenario_file(path) if path else Scenario()
    understood, choice, matcher = (), None, _matcher(request) if request.text else None
    if request.text:
        from advisor.decision.text import choose_option, parse_scenario_text

        parsed = parse_scenario_text(request.text, matcher)
        scenario = scenario.replace(**parsed.scenario.known())
        understood = parsed.understood
    scenario = apply_overrides(scenario, settings)
    costing = _costing(request)
    evidence = None
    if request.run is not None:
        from benchmarks.results import load_run_results

        evidence = load_run_results(request.run)
    reading = reader = None
    if request.text and matcher is not None:
        from advisor.decision.reader import load_reader

        reader = load_reader()  # loaded once: the reading here, the option choice below
        reading = reader.read_approaches(request.text)
    rec = recommend(scenario, evidence, reading=reading, **costing)
    if request.text:
        rec = rec.with_text(understood)
        if request.options:
            options = parse_options(request.options)
            choice = choose_option(request.text, options, matcher, reading)
            if (path or settings or evidence) and choice.letter is not None:
                choice = _rechoose(choice, rec)
            elif matcher is not None:
                choice = _learned_choice(reader, request.text, options, choice)
    notes = tuple(request.notes)
    if notes:
        from dataclasses import replace

        rec = replace(rec, notes=rec.notes + notes)
    return rec, choice


def _costing(request: Request) -> dict:
    """The break-even settings (`--prices`, `--queries-per-month`), checked: both need a run."""
    volume = request.queries_per_month
    for flag, given in (("--prices", request.prices), ("--queries-per-month", volume)):
        if given is not None and request.run is None:
            raise ScenarioError(
                "needs a benchmark run: the break-even comes from its measured costs",
                field=flag,
                hint="add --from-run runs/<run-id>",
            )
    if volume is not None and (isinstance(volume, bool) or volume < 1):
        raise ScenarioError(
            f"expected a positive number of queries a month, got {volume}",
            field="--queries-per-month",
            hint="for example: --queries-per-month 50000",
        )
    costing: dict = {"queries_per_month": volume}
    if request.prices is not None:
        from benchmarks.harness import load_prices

        costing |= {"prices": load_prices(request.prices), "price_source": str(request.prices)}
    return costing


def _learned_choice(reader, text: str, options: dict[str, str], choice):
    """The option the learned reader picks (advisor.decision.reader), with the rules'
    reasoning kept beside it; the rules decide when a file, settings or a run add
    facts the text does not hold."""
    from dataclasses import replace

    read = reader.choose(text, options)
    asked = ", ".join(f"{label} {p:.2f}" for label, p in read.stem_labels)
    reasons = (
        f"The learned reader picks {read.letter}: the question asks for {asked}; option "
        f"{read.letter} reads as {read.option_labels[read.letter]} ({read.how}).",
        *(f"The rules: {r}" for r in choice.reasons[:2]),
    )
    return replace(
        choice,
        letter=read.letter,
        approach=read.option_labels[read.letter],
        option_approaches=dict(read.option_labels),
        reasons=reasons,
    )


def _rechoose(choice, rec: Recommendation):
    """Re-pick the option against the full recommendation (file, settings or run included)."""
    from dataclasses import replace

    ranked = [
        (rec.rank_of(a), letter, a)
        for letter, a in choice.option_approaches.items()
        if a is not None
    ]
    rank, letter, approach = min(ranked)
    reason = f"Option {letter} stands for {rec.verdict_of(approach).label}, ranked #{rank}."
    return replace(choice, letter=letter, approach=approach, recommendation=rec, reasons=(reason,))


# ---------------------------------------------------------------- output


def output_format(fmt: str | None, output: Path | None) -> str:
    """The format asked for, else guessed from the output file's suffix, else the terminal."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ScenarioError(
                f"unknown format '{fmt}'", field="--format", hint=f"one of: {', '.join(FORMATS)}"
            )
        return fmt
    suffix = output.suffix.lower() if output is not None else ""
    return {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}.get(suffix, "terminal")


def write_report(
    rec: Recommendation, choice, fmt: str, output: Path | None, console: Console
) -> Path | None:
    """Print or write the report; returns the file written, if any."""
    from advisor.decision.report import render_recommendation, to_html, to_markdown

    if fmt == "terminal":
        if output is None:
            render_recommendation(rec, console, choice=choice)
            return None
        file_console = Console(record=True, width=100, file=io.StringIO())
        render_recommendation(rec, file_console, choice=choice)
        text = file_console.export_text()
    elif fmt == "md":
        plots = (
            output.with_name(f"{output.stem}_plots")
            if output is not None and rec.evidence
            else None
        )
        text = to_markdown(rec, plots_dir=plots, choice=choice)
    else:
        text = to_html(rec, choice=choice)
    if output is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
        return None
    make_parent(output, what="report")
    write_text_atomic(output, text, what="report")
    return output
