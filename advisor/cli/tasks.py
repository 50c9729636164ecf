"""`advisor tasks`: list and inspect task folders."""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from advisor.cli.common import console, friendly_errors

app = typer.Typer(
    help="Bring your own task in (import, init, validate) and inspect any task folder.",
    no_args_is_help=True,
)


@app.command("list")
@friendly_errors
def list_tasks() -> None:
    """List the built-in tasks."""
    from advisor.tasks import list_builtin_tasks, load_task

    table = Table(title="Built-in tasks", title_justify="left")
    for column in ("name", "version", "domain", "corpus docs", "train", "test"):
        table.add_column(
            column,
            justify="right" if column in ("version", "corpus docs", "train", "test") else "left",
        )
    for name in list_builtin_tasks():
        task = load_task(name)
        table.add_row(
            name,
            str(task.spec.version),
            task.spec.domain,
            str(len(task.corpus)),
            str(len(task.train)),
            str(len(task.test)),
        )
    console.print(table)
    console.print(
        "Any folder in the task format works too: [bold]advisor tasks show path/to/task[/]"
    )


@app.command("show")
@friendly_errors
def show(
    name: str = typer.Argument(..., help="A built-in task name or a path to a task folder."),
    examples: int = typer.Option(3, "--examples", "-n", help="Test items to print per kind."),
    allow_leakage: bool = typer.Option(
        False, help="Load even if a test question also appears in train."
    ),
) -> None:
    """Validate a task and show what it holds: corpus, train and test by kind."""
    from advisor.tasks import load_task

    task = load_task(name, allow_leakage=allow_leakage)
    spec = task.spec
    console.print(
        Panel(
            f"{spec.description}\n\n[bold]domain[/] {spec.domain}   [bold]version[/] {spec.version}   "
            f"[bold]type[/] {spec.type}\n[bold]folder[/] {task.root}",
            title=f"task [bold]{spec.name}[/]",
            title_align="left",
        )
    )
    console.print(Panel(spec.system_prompt, title="system prompt", title_align="left"))
    if spec.style.description:
        console.print(Panel(spec.style.description, title="house style", title_align="left"))

    counts = Table(title="Contents", title_justify="left")
    counts.add_column("part")
    counts.add_column("count", justify="right")
    counts.add_row(f"corpus ({spec.corpus_dir}/)", str(len(task.corpus)))
    if task.corpus_v2 is not None:
        counts.add_row(f"corpus after drift ({spec.drift_corpus_dir}/)", str(len(task.corpus_v2)))
    counts.add_row("train examples", str(len(task.train)))
    by_kind = Counter(item.kind for item in task.test)
    for kind, count in sorted(by_kind.items()):
        counts.add_row(f"test: {kind}", str(count))
    console.print(counts)

    items = Table(title="Test items (first per kind)", title_justify="left", show_lines=True)
    for column in ("id", "kind", "question", "reference", "facts"):
        items.add_column(column, overflow="fold")
    for kind in sorted(by_kind):
        for item in [i for i in task.test if i.kind == kind][:examples]:
            items.add_row(item.id, kind, item.question, item.reference, ", ".join(item.facts))
    console.print(items)
    console.print(
        f"[green]✓[/] {Path(task.root).name}: valid ({len(task.content_hashes())} files hashed)"
    )


@app.command("init")
@friendly_errors
def init(
    folder: Path = typer.Argument(..., help="The new task folder (must not exist, or be empty)."),
    task_type: str = typer.Option(
        "generation", "--type", help="generation (free-text answers) or classification (labels)."
    ),
) -> None:
    """Scaffold a task folder: a commented task.yaml and two example lines per file.

    Example:  advisor tasks init my-task --type classification
    """
    from advisor.scaffold import init_task

    for path in init_task(folder, task_type):
        console.print(f"  wrote {path}")
    console.print(
        f"[green]✓[/] {folder}: edit the files, then [bold]advisor tasks validate {folder}[/]"
    )


@app.command("validate")
@friendly_errors
def validate(
    folder: str = typer.Argument(..., help="A task folder or a built-in task name."),
    model: str = typer.Option(
        "smollm2", "--model", help="Whose tokens to count (catalog name, HF folder or .gguf)."
    ),
    tokens: bool = typer.Option(True, help="Count tokens with the model's tokenizer."),
    embeddings: bool = typer.Option(
        True, help="Also find near-duplicate leakage with sentence embeddings (MiniLM)."
    ),
    embedder: str = typer.Option("minilm", "--embedder", help="Embedder for --embeddings."),
    profile: str = typer.Option("standard", "--profile", help="Whose limits to compare with."),
    allow_leakage: bool = typer.Option(False, help="Report leaked test items as warnings only."),
) -> None:
    """Check a task: every problem (file, line, field), then its statistics.

    Statistics: items per split and kind, label balance, token lengths against the model's
    context and the run's limits, duplicates, and test questions that (nearly) repeat train
    questions.

    Exit code 1 when there are problems.
    """
    from advisor.cli.task_views import print_problems, print_statistics
    from advisor.tasks import check_task

    task, problems = check_task(folder, allow_leakage=allow_leakage)
    if problems:
        print_problems(problems, folder)
        raise typer.Exit(1)
    print_statistics(task, model if tokens else None, embedder if embeddings else None, profile)


@app.command("import")
@friendly_errors
def import_(
    sources: list[Path] = typer.Argument(None, help="Data files, or a saved HF dataset folder."),
    to: Path = typer.Option(..., "--to", help="The task folder to write."),
    data_format: str = typer.Option(
        None,
        "--format",
        help="Force a format: chat, prompt-completion, chat-prompt-completion, "
        "alpaca, sharegpt, text, table (aliases: openai, bedrock, trl-*).",
    ),
    test: Path = typer.Option(None, "--test", help="A held-out file to use as the test set."),
    corpus: Path = typer.Option(
        None, "--corpus", help="A folder of .md/.txt/.html/.pdf documents."
    ),
    task_type: str = typer.Option("auto", "--type", help="auto | classification | generation."),
    test_size: float = typer.Option(0.2, help="Test share (below 1) or count (1 and up)."),
    seed: int = typer.Option(0, help="Seed of the split."),
    name: str = typer.Option(None, help="Task name (default: the folder's name)."),
    domain: str = typer.Option("imported data", help="The task's domain, for reports."),
    system_prompt: str = typer.Option(None, help="The system prompt (default: the data's own)."),
    text_col: list[str] = typer.Option(
        None,
        help="Tables: the column holding the text to label (repeat to read several, joined: "
        "a title and its body).",
    ),
    label_col: str = typer.Option(None, help="Tables: the column holding the label."),
    question_col: str = typer.Option(None, help="Tables: the question column."),
    answer_col: str = typer.Option(None, help="Tables: the answer column."),
    force: bool = typer.Option(
        False, help="Replace --to if it exists (once the new task is ready)."
    ),
    allow_leakage: bool = typer.Option(False, help="Keep test items that repeat train questions."),
) -> None:
    """Turn the files you already have into a task folder, split and validated.

    Reads OpenAI chat JSONL, Bedrock prompt/completion, TRL's shapes, Alpaca, ShareGPT,
    CSV/TSV/JSONL/Parquet tables and saved Hugging Face datasets; says what it read; splits
    one file by seed (stratified for labels, near-duplicates on one side) unless --test is
    given. Nothing is written unless the whole task validates.

    Examples:  advisor tasks import intents.csv --to my-router --text-col text --label-col intent
               advisor tasks import train.jsonl --test test.jsonl --corpus docs/ --to my-task
    """
    from advisor.importing import ImportRequest, Options, import_task

    request = ImportRequest(
        tuple(sources or ()),
        to,
        data_format,
        test,
        corpus,
        task_type,
        test_size,
        seed,
        name,
        domain,
        system_prompt,
        Options(
            text_col[0] if text_col and len(text_col) == 1 else None,
            label_col,
            question_col,
            answer_col,
            text_cols=tuple(text_col) if text_col and len(text_col) > 1 else (),
        ),
        force,
        allow_leakage,
    )
    for line in import_task(request).lines:
        console.print(line, highlight=False, markup=False)
    shown = escape(shlex.quote(str(to)))  # a path with spaces or brackets, as typed
    console.print(
        f"next: [bold]advisor tasks validate {shown}[/], then "
        f"[bold]advisor compare --task {shown} --profile quick[/]"
    )
