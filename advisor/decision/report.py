"""The recommendation report: in the terminal (rich), as Markdown, and as standalone HTML.

All three show the same sections, built from the same helpers: the headline,
what was understood (free text), the scenario, the ranked table, why the top
approach won and what would change it, and — with a benchmark run — the
measured table and two plots.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from advisor.decision.approaches import label
from advisor.decision.breakeven import format_queries
from advisor.decision.recommendation import (
    NOT_ADVISED,
    RECOMMENDED,
    VIABLE,
    ApproachVerdict,
    Measured,
    Recommendation,
)
from advisor.decision.scenario import SCENARIO_SPACE, describe, format_value

if TYPE_CHECKING:
    from advisor.decision.text import OptionChoice
    from benchmarks.results import RunResults

VERDICT_STYLE = {RECOMMENDED: "bold green", VIABLE: "yellow", NOT_ADVISED: "red"}
KIND_COLUMNS = ("seen", "unseen", "drift", "style", "out_of_scope")
SHOW_CHANGES_FOR = 3  # approaches whose "what would change" the report lists
SHORT_LABELS = {
    "prompt": "Prompting",
    "fewshot": "Few-shot",
    "rag": "RAG",
    "sft": "SFT (LoRA)",
    "full_ft": "Full fine-tune",
    "full_ft+rag": "RAG + full FT",
    "sft+rag": "RAG + SFT",
    "cpt": "Continued pre-train",
    "scratch": "From scratch",
    "supervised": "TF-IDF classifier",
    "embed": "Embedding classifier",
    "distill": "Distillation",
    "preference": "Preference tuning",
}
COST_NOTE = (
    "p50/p95: seconds for one question answered alone (a seeded sample of the test set); "
    "answers/s: throughput at the run's batch size, which $/1k q comes from."
)


# ---------------------------------------------------------------- shared content


def headline(rec: Recommendation) -> str:
    top = rec.top
    if rec.evidence is not None and rec.evidence.chosen is None:
        return f"No measured strategy meets the constraints; by the rules: {top.label}"
    return f"Recommended: {top.label} ({top.approach})"


def why_lines(verdict: ApproachVerdict) -> list[str]:
    """The reasons for one approach, evidence first, then the rules for and against it."""
    lines = list(verdict.reasons)
    lines += [f"{r.rationale} [{r.id}, {r.effect_text}]" for r in verdict.for_]
    lines += [f"Against: {r.rationale} [{r.id}, {r.effect_text}]" for r in verdict.against[:3]]
    return lines


def change_rows(rec: Recommendation) -> list[tuple[str, str]]:
    rows = []
    for verdict in rec.ranking[:SHOW_CHANGES_FOR]:
        for change in verdict.would_change:
            rows.append((verdict.approach, change))
    return rows


def option_rows(rec: Recommendation, choice: OptionChoice) -> list[tuple[str, str, str, str]]:
    rows = []
    for letter, approach in choice.option_approaches.items():
        text = choice.option_texts.get(letter, "")
        mark = " ←" if letter == choice.letter else ""
        rank = f"#{rec.rank_of(approach)}" if approach else "—"
        rows.append((letter + mark, text, approach or "(none)", rank))
    return rows


def answer_line(choice: OptionChoice) -> str:
    if choice.letter is None:
        return "none of the options matches an approach"
    return f"{choice.letter}: {choice.option_texts.get(choice.letter, '')} ({choice.approach})"


STATUS_WORDS = {
    "chosen": "measured: cheapest within the noise band",
    "within band": "measured: within the noise band, costs more",
    "below band": "measured: below the noise band",
    "excluded": "measured, but ruled out",
}


def why_cell(verdict: ApproachVerdict) -> str:
    """A short "why" for a table cell: the measured status, then the rules for (+) and against (−)."""
    parts = []
    if verdict.measured is not None:
        parts.append(STATUS_WORDS.get(verdict.measured.status, verdict.measured.status))
    elif verdict.reasons:
        parts.append(_not_measured(verdict))
    parts += [f"✗ {r.id}" for r in verdict.rules if isinstance(r.effect, str)]
    parts += [f"+ {r.id}" for r in verdict.for_[:3]]
    parts += [f"− {r.id}" for r in verdict.against if not isinstance(r.effect, str)][:3]
    return "; ".join(parts) or "effort prior only"


def _not_measured(verdict: ApproachVerdict) -> str:
    """ "not measured: `-s …,full_ft` measures it" where the harness can, from the reason."""
    reason = verdict.reasons[0]
    if "`advisor compare" not in reason:
        return "not measured"
    why = "not in the standard profile; " if "standard profile" in reason else ""
    return f"not measured: {why}`-s …,{verdict.approach}` measures it"


def _measured_cell(verdict: ApproachVerdict) -> str:
    m = verdict.measured
    if m is None:
        return "—"
    return f"{m.mean:.2f} ± {m.std:.2f}" if m.n_seeds > 1 else f"{m.mean:.2f}"


def evidence_rows(rec: Recommendation) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the measured table, in ranking order."""
    from benchmarks.latency import answers_per_second

    assert rec.evidence is not None
    results = rec.evidence.results
    kinds = [k for k in KIND_COLUMNS if any(k in r.by_kind for r in results.strategies.values())]
    paired = bool(results.paired)
    header = [
        "strategy",
        rec.evidence.metric,
        "vs best (95% CI)" if paired else "noise band",
        *[k.replace("_", "-") for k in kinds],
        "train s",
        "p50 s",
        "p95 s",
        "answers/s",
        "prompt tok",
        "$/1k q",
        "status",
    ]
    rows = []
    for verdict in rec.ranking:
        m = verdict.measured
        if m is None:
            continue
        cost = m.cost
        rows.append(
            [
                verdict.approach,
                _measured_cell(verdict),
                _versus_cell(verdict.approach, m) if paired else f"{m.band:.2f}",
                *[f"{m.by_kind[k]:.2f}" if k in m.by_kind else "—" for k in kinds],
                _num(cost.get("train_time_s"), "{:.0f}"),
                _num(cost.get("latency_p50_s"), "{:.2f}"),
                _num(cost.get("latency_p95_s"), "{:.2f}"),
                _num(answers_per_second(cost, m.n_items), "{:.1f}"),
                _num(cost.get("prompt_tokens"), "{:.0f}"),
                _num(cost.get("cost_per_1k_queries_usd"), "{:.3f}"),
                m.status,
            ]
        )
    return header, rows


def _versus_cell(name: str, m: Measured) -> str:
    """This strategy minus the best allowed, item by item: "−0.02 (−0.05 to +0.01)"."""
    if m.versus is None:
        return "best" if name == m.versus_name else "—"
    v = m.versus
    return f"{v.diff:+.2f} ({v.ci_low:+.2f} to {v.ci_high:+.2f})"


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def break_even_title(rec: Recommendation) -> str:
    assert rec.evidence is not None and rec.evidence.break_even
    return f"Break-even against {rec.evidence.break_even[0].baseline}"


def break_even_rows(rec: Recommendation) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the break-even table: each trained strategy against the best
    untrained one, and, with the user's volume, whether it is above or below."""
    evidence = rec.evidence
    assert evidence is not None and evidence.break_even
    baseline = evidence.break_even[0].baseline
    volume = evidence.queries_per_month
    header = [
        "trained",
        "training $",
        "$/1k q",
        f"{baseline} $/1k q",
        "break-even queries/month",
        *([f"at {volume:,}/month"] if volume else []),
    ]
    rows = [
        [
            b.strategy,
            _usd(b.train_cost_usd),
            _usd(b.query_cost_usd * 1000),
            _usd(b.baseline_query_cost_usd * 1000),
            format_queries(b.queries),
            *([b.verdict(volume)] if volume else []),
        ]
        for b in evidence.break_even
    ]
    return header, rows


def break_even_note(rec: Recommendation) -> str:
    evidence = rec.evidence
    assert evidence is not None and evidence.break_even
    baseline = evidence.break_even[0].baseline
    return (
        f"At ${evidence.hourly_usd:.2f} {evidence.price_basis}. Break-even: the monthly query "
        f"volume above which a trained strategy's training cost is repaid within the month by "
        f"queries cheaper than {baseline}'s (the best untrained strategy: shorter prompts, no "
        f"retrieval, so more answers per second); never where it costs as much or more per "
        f"query. Training $ = train time x the hourly price; $/1k q from the throughput."
        + ("" if evidence.queries_per_month else " Add --queries-per-month N to place your volume.")
    )


def _understood_rows(rec: Recommendation) -> list[tuple[str, str, str]]:
    return [
        (SCENARIO_SPACE[u.field].label, format_value(u.field, u.value), f"“{u.phrase}” ({u.how})")
        for u in rec.understood
    ]


# ---------------------------------------------------------------- terminal


def render_recommendation(
    rec: Recommendation,
    console: Console,
    *,
    choice: OptionChoice | None = None,
    show_rules: bool = True,
) -> None:
    """Print the report with rich (used by `advisor recommend` and at the end of `advisor compare`)."""
    for renderable in _terminal_sections(rec, choice, show_rules):
        console.print(renderable, highlight=False)
        console.print("")


def _terminal_sections(rec: Recommendation, choice: OptionChoice | None, show_rules: bool) -> list:
    top = rec.top
    body = [Text(top.headline_reason)]
    if rec.evidence is not None:
        run = f"Evidence: run {rec.evidence.run_id} (task {rec.evidence.task})."
        body.append(Text(run, style="dim"))
    sections: list = [
        Panel(Group(*body), title=headline(rec), title_align="left", border_style="green")
    ]
    if rec.understood:
        sections.append(
            _table("What I understood", ("fact", "value", "from"), _understood_rows(rec))
        )
    if describe(rec.scenario):
        sections.append(_table("Scenario", ("fact", "value"), describe(rec.scenario)))
    elif rec.source != "run":
        sections.append(
            Text("Scenario: nothing known; every field is at its default.", style="dim")
        )
    sections.append(_ranking_table(rec))
    sections.append(
        _bullets(f"Why {top.approach}", why_lines(top) if show_rules else list(top.reasons))
    )
    if change_rows(rec):
        sections.append(
            _table("What would change the verdict", ("approach", "change"), change_rows(rec))
        )
    if rec.evidence is not None:
        note = Text(f"{rec.evidence.cost_basis}. {rec.evidence.band_note} {COST_NOTE}", style="dim")
        sections.append(Group(_evidence_table(rec), note))
    if rec.evidence is not None and rec.evidence.break_even:
        header, rows = break_even_rows(rec)
        table = _table(break_even_title(rec), header, rows)
        sections.append(Group(table, Text(break_even_note(rec), style="dim")))
    if choice is not None:
        options = _table(
            "Answer options", ("option", "text", "approach", "rank"), option_rows(rec, choice)
        )
        sections.append(Group(options, Text(f"Answer: {answer_line(choice)}", style="bold")))
    sections += [Text(f"note: {note}", style="yellow") for note in rec.notes]
    return sections


def _table(title: str, header: tuple[str, ...] | list[str], rows: list) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    for column in header:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _bullets(title: str, lines: list[str]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.title, grid.title_justify, grid.title_style = title, "left", "bold"
    grid.add_column(width=1)
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row("•", line)
    return grid


def _ranking_table(rec: Recommendation) -> Table:
    measured = rec.evidence is not None
    table = Table(
        title="Ranking",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("#", justify="right")
    table.add_column("approach", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    if measured:
        table.add_column("measured", justify="right", no_wrap=True)
    table.add_column("why", overflow="fold", ratio=1)
    for i, verdict in enumerate(rec.ranking, start=1):
        cells = [
            str(i),
            SHORT_LABELS.get(verdict.approach, verdict.approach),
            Text(verdict.verdict, style=VERDICT_STYLE[verdict.verdict]),
            f"{verdict.score:+.1f}",
        ]
        if measured:
            cells.append(_measured_cell(verdict))
        cells.append(why_cell(verdict))
        table.add_row(*cells)
    return table


def _evidence_table(rec: Recommendation) -> Group:
    """Two tables in the terminal (scores, then cost): one would not fit 100 columns."""
    assert rec.evidence is not None
    header, rows = evidence_rows(rec)
    n_cost = 6  # train s, p50 s, p95 s, answers/s, prompt tok, $/1k q sit before the status
    score_cols = [*range(len(header) - n_cost - 1), len(header) - 1]
    cost_cols = [0, *range(len(header) - n_cost - 1, len(header) - 1)]
    short = {"out-of-scope": "oos"}
    tables = []
    for title, cols in (
        (f"Measured: run {rec.evidence.run_id}", score_cols),
        ("Measured cost", cost_cols),
    ):
        table = Table(
            title=title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
        )
        for c in cols:
            numeric = c not in (0, len(header) - 1)
            table.add_column(
                short.get(header[c], header[c]),
                justify="right" if numeric else "left",
                no_wrap=True,
            )
        for row in rows:
            table.add_row(*[row[c] for c in cols])
        tables.append(table)
    return Group(tables[0], Text(""), tables[1])


# ---------------------------------------------------------------- markdown


def _md_table(header: list[str] | tuple[str, ...], rows: list) -> str:
    def cell(value: str) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(
    rec: Recommendation,
    plots_dir: Path | None = None,
    plots_link: str | None = None,
    choice: OptionChoice | None = None,
) -> str:
    """The report as Markdown. With evidence and `plots_dir`, the plots are written there as PNG
    and linked (relative to `plots_link`, default the folder name)."""
    top = rec.top
    out = [f"# {headline(rec)}", "", top.headline_reason, ""]
    if rec.evidence is not None:
        out += [
            f"Evidence: benchmark run `{rec.evidence.run_id}` (task `{rec.evidence.task}`).",
            "",
        ]
    if rec.understood:
        out += [
            "## What I understood",
            "",
            _md_table(("fact", "value", "from"), _understood_rows(rec)),
            "",
        ]
    if describe(rec.scenario):
        out += ["## Scenario", "", _md_table(("fact", "value"), describe(rec.scenario)), ""]
    measured = rec.evidence is not None
    header = ["#", "approach", "verdict", "rules score", *(["measured"] if measured else []), "why"]
    rows = [
        [
            str(i),
            v.label,
            f"**{v.verdict}**" if v.verdict == RECOMMENDED else v.verdict,
            f"{v.score:+.1f}",
            *([_measured_cell(v)] if measured else []),
            why_cell(v),
        ]
        for i, v in enumerate(rec.ranking, 1)
    ]
    out += ["## Ranking", "", _md_table(header, rows), "", f"## Why {top.approach}", ""]
    out += [f"- {line}" for line in why_lines(top)] + [""]
    if change_rows(rec):
        out += [
            "## What would change the verdict",
            "",
            _md_table(("approach", "change"), change_rows(rec)),
            "",
        ]
    if rec.evidence is not None:
        header, rows = evidence_rows(rec)
        out += [
            f"## Measured (run `{rec.evidence.run_id}`)",
            "",
            _md_table(header, rows),
            "",
            f"{rec.evidence.cost_basis}. {rec.evidence.band_note} {COST_NOTE}",
            "",
        ]
        if rec.evidence.break_even:
            header, rows = break_even_rows(rec)
            out += [
                f"## {break_even_title(rec)}",
                "",
                _md_table(header, rows),
                "",
                break_even_note(rec),
                "",
            ]
        if plots_dir is not None:
            from advisor.decision.plots import write_png_plots

            paths = write_png_plots(rec.evidence.results, plots_dir, rec.evidence.chosen)
            link = plots_link if plots_link is not None else plots_dir.name
            out += [
                f"![{name.replace('_', ' ')}]({link}/{path.name})" for name, path in paths.items()
            ] + [""]
            out += (
                [*curve_lines(rec.evidence.results), ""]
                if rec.evidence.results.learning_curve
                else []
            )
    if choice is not None:
        rows = option_rows(rec, choice)
        out += [
            "## Answer options",
            "",
            _md_table(("option", "text", "approach", "rank"), rows),
            "",
        ]
        out += [f"**Answer: {answer_line(choice)}**", ""]
    out += [f"> note: {n}" for n in rec.notes]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- html

CSS = """
:root { --ok: #1b7f3b; --mid: #9a6700; --no: #b42318; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       max-width: 1000px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 .4rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.lead { font-size: 1.05rem; margin: .2rem 0 .4rem; }
.meta { color: var(--muted); font-size: .85rem; }
.hero { border-left: 5px solid var(--ok); background: #f3faf5; padding: .8rem 1rem; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .6rem; font-size: .86rem; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .78rem; font-weight: 600;
         white-space: nowrap; border: 1px solid currentColor; }
.recommended { color: var(--ok); } .viable { color: var(--mid); } .not-advised { color: var(--no); }
tr.top td { background: #f3faf5; }
table.measured td:last-child, table.measured th { white-space: nowrap; }
ul { margin: .3rem 0; padding-left: 1.2rem; } li { margin: .15rem 0; }
code, .rule { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; color: var(--muted); }
figure { margin: .6rem 0; } figure svg { width: 100%; height: auto; }
footer { margin-top: 2rem; color: var(--muted); font-size: .8rem; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; } table, figure, .hero { break-inside: avoid; }
  tr { break-inside: avoid; } .hero, tr.top td, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _esc(value: object) -> str:
    return html.escape(str(value))


def _html_table(
    header,
    rows,
    numeric: set[int] | None = None,
    classes: list[str] | None = None,
    table_class: str = "",
) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cls = f' class="{classes[r]}"' if classes and classes[r] else ""
        cells = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    attr = f' class="{table_class}"' if table_class else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _badge(verdict: str) -> str:
    return f'<span class="badge {verdict.replace(" ", "-")}">{_esc(verdict)}</span>'


def to_html(
    rec: Recommendation, title: str = "advisor recommendation", choice: OptionChoice | None = None
) -> str:
    """A standalone HTML page (inline CSS and SVG plots) that reads well on screen and on paper."""
    top = rec.top
    parts = [
        f'<div class="hero"><h1>{_esc(headline(rec))}</h1><p class="lead">{_esc(top.headline_reason)}</p>'
    ]
    if rec.evidence is not None:
        parts.append(
            f'<p class="meta">Evidence: benchmark run <code>{_esc(rec.evidence.run_id)}</code> '
            f"(task <code>{_esc(rec.evidence.task)}</code>)</p>"
        )
    parts.append("</div>")
    if rec.understood:
        rows = [[_esc(a), _esc(b), _esc(c)] for a, b, c in _understood_rows(rec)]
        parts += ["<h2>What I understood</h2>", _html_table(("fact", "value", "from"), rows)]
    if describe(rec.scenario):
        rows = [[_esc(a), _esc(b)] for a, b in describe(rec.scenario)]
        parts += ["<h2>Scenario</h2>", _html_table(("fact", "value"), rows)]
    parts += [
        "<h2>Ranking</h2>",
        _html_ranking(rec),
        f"<h2>Why {_esc(label(top.approach))}</h2>",
        "<ul>",
    ]
    parts += [f"<li>{_esc(line)}</li>" for line in why_lines(top)] + ["</ul>"]
    if change_rows(rec):
        rows = [[_esc(a), _esc(c)] for a, c in change_rows(rec)]
        parts += [
            "<h2>What would change the verdict</h2>",
            _html_table(("approach", "change"), rows),
        ]
    if rec.evidence is not None:
        parts += _html_evidence(rec)
    if choice is not None:
        rows = [[_esc(c) for c in row] for row in option_rows(rec, choice)]
        parts += [
            "<h2>Answer options</h2>",
            _html_table(("option", "text", "approach", "rank"), rows),
        ]
        parts.append(f"<p><strong>Answer: {_esc(answer_line(choice))}</strong></p>")
    parts += [f'<p class="meta">note: {_esc(n)}</p>' for n in rec.notes]
    parts.append(
        "<footer>Generated by <code>advisor recommend</code>. Scores are points from the rules in "
        "<code>advisor/decision/rules.yaml</code>; measured numbers come from the benchmark run.</footer>"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_esc(title)}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def _html_ranking(rec: Recommendation) -> str:
    measured = rec.evidence is not None
    header = ["#", "approach", "verdict", "rules score", *(["measured"] if measured else []), "why"]
    rows, classes = [], []
    for i, v in enumerate(rec.ranking, start=1):
        rows.append(
            [
                str(i),
                _esc(v.label),
                _badge(v.verdict),
                f"{v.score:+.1f}",
                *([_esc(_measured_cell(v))] if measured else []),
                _esc(why_cell(v)),
            ]
        )
        classes.append("top" if i == 1 else "")
    return _html_table(header, rows, numeric={0, 3, 4} if measured else {0, 3}, classes=classes)


def _html_evidence(rec: Recommendation) -> list[str]:
    from advisor.decision.plots import svg_plots

    assert rec.evidence is not None
    header, rows = evidence_rows(rec)
    numeric = set(range(1, len(header) - 1))
    parts = [
        f"<h2>Measured: run {_esc(rec.evidence.run_id)}</h2>",
        _html_table(
            header,
            [[_esc(c) for c in row] for row in rows],
            numeric=numeric,
            table_class="measured",
        ),
        f'<p class="meta">{_esc(rec.evidence.cost_basis)}. {_esc(rec.evidence.band_note)} '
        f"{_esc(COST_NOTE)}</p>",
    ]
    if rec.evidence.break_even:
        be_header, be_rows = break_even_rows(rec)
        parts += [
            f"<h2>{_esc(break_even_title(rec))}</h2>",
            _html_table(
                be_header,
                [[_esc(c) for c in row] for row in be_rows],
                numeric={1, 2, 3, 4},
                table_class="measured",
            ),
            f'<p class="meta">{_esc(break_even_note(rec))}</p>',
        ]
    for name, svg in svg_plots(rec.evidence.results, rec.evidence.chosen).items():
        parts.append(f'<figure aria-label="{_esc(name)}">{svg}</figure>')
    parts += [f'<p class="meta">{_esc(line)}</p>' for line in curve_lines(rec.evidence.results)]
    return parts


def curve_lines(results: RunResults) -> list[str]:
    """Per learning curve: per kind, the fewest examples at which it comes within
    the noise band of RAG, or that it never does in the range measured."""
    from advisor.display import curve_caption

    rag = results.strategies.get("rag")
    if not results.learning_curve or rag is None:
        return []
    metric = results.primary_metric
    by_kind = {
        kind: {"score": {"mean": stats[metric].mean, "std": stats[metric].std}}
        for kind, stats in rag.by_kind.items()
        if metric in stats
    }
    scores = {"learning_curve": results.learning_curve, "strategies": {"rag": {"by_kind": by_kind}}}
    return [curve_caption(scores, name) + "." for name in results.learning_curve]
