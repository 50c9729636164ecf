"""`advisor explain TERM`: one entry of the concept glossary."""

from __future__ import annotations

import typer
from rich.panel import Panel

from advisor.cli.common import console, friendly_errors
from advisor.errors import AdvisorError


@friendly_errors
def explain(
    term: list[str] = typer.Argument(
        None, help='A term of the field, e.g. "continued pre-training", LoRA, RLHF.'
    ),
    list_all: bool = typer.Option(False, "--list", "-l", help="List every term and exit."),
) -> None:
    """Explain a term of the field: its definition, approach and usual confusions.

    The entry comes from the concept glossary (advisor/decision/concepts.yaml): the definition,
    the approach it maps to, the words that signal it and what it is usually confused with.

    Examples:  advisor explain transfer learning
               advisor explain --list
    """
    from advisor.decision.approaches import label
    from advisor.decision.concepts import find_concept, load_concepts, suggest

    if list_all or not term:
        for concept in load_concepts().values():
            console.print(f"[bold]{concept.term}[/]  [dim]{concept.id}[/]", highlight=False)
        return
    text = " ".join(term)
    concept = find_concept(text)
    if concept is None:
        close = suggest(text)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None
        raise AdvisorError(
            f"no glossary entry for '{text}'", hint=hint or "advisor explain --list shows them all"
        )
    body = [concept.definition, ""]
    body.append(
        f"[bold]approach[/] {label(concept.approach)} ({concept.approach})"
        if concept.approach
        else "[bold]approach[/] none: a concept, not a way to adapt a model"
    )
    if concept.aliases:
        body.append(f"[bold]also called[/] {', '.join(concept.aliases)}")
    if concept.cues:
        body.append(f"[bold]cues[/] {', '.join(concept.cues)}")
    concepts = load_concepts()
    for confusion in concept.confusions:
        body.append(
            f"[bold]not to confuse with {concepts[confusion.other].term}:[/] {confusion.how}"
        )
    if concept.related:
        body.append(f"[bold]see also[/] {', '.join(concepts[r].term for r in concept.related)}")
    console.print(Panel("\n".join(body), title=concept.term, title_align="left"))
