"""Task folders: loading and validation.

A task is a folder:

    task.yaml     name, version, description, domain, system prompt, style rules, metrics
    corpus/       knowledge documents (.md / .txt): the RAG and continued-pretraining source
    train.jsonl   labeled examples: {"messages": [...]} or {"prompt": ..., "completion": ...}
    test.jsonl    held-out items: {"id", "question", "reference", "facts": [...], "kind"}

An optional second corpus (`drift.corpus` in task.yaml, e.g. `corpus_v2/`) is the
knowledge *after* a change: retrieval reads it at test time, while anything trained
was trained on the first corpus and train.jsonl.

A `classification` task (`type: classification`, with its `labels`) has a label
as every reference and every train answer; its corpus is optional, and its test
items need no `facts` or `kind` (`seen` by default). A generation task's corpus
is optional too when task.yaml does not name one: strategies that need it are
then skipped with the reason.

Every problem is reported as a `TaskError` naming the file, line and field, and
loading never writes anything. `load_task` stops at the first problem;
`check_task` collects every one (what `advisor tasks validate` reports).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import TaskError
from advisor.fileio import (
    locate,
    parse_jsonl_line,
    read_jsonl_lines,
    read_text,
    yaml_error,
    yaml_key_lines,
)

KINDS = ("seen", "unseen", "style", "out_of_scope", "drift")
ROLES = ("system", "user", "assistant")
TASK_TYPES = ("generation", "classification")
SCORES = ("facts", "token_f1", "embedding_similarity")
"""What a generation task's primary `score` is: fact recall (the default, for
tasks whose items list their facts), or, for imported question-answer data with
no facts, token F1 or embedding similarity to the reference."""
BUILTIN_TASKS_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "tasks"
CORPUS_SUFFIXES = (".md", ".txt")


@dataclass(frozen=True)
class StyleRules:
    """The house answer style, as checks a scorer can run.

    `description` is shown to people (and may be put in prompts); the rest is
    checked on each answer by `benchmarks.metrics.style_checks`.
    """

    description: str = ""
    max_words: int | None = None
    money_pattern: str | None = None  # every amount in an answer must match this regex
    required_patterns: tuple[str, ...] = ()  # each must match somewhere in the answer
    forbidden_patterns: tuple[str, ...] = ()  # none may match


@dataclass(frozen=True)
class TaskSpec:
    """The contents of task.yaml."""

    name: str
    version: int
    description: str
    domain: str
    system_prompt: str
    type: str = "generation"
    labels: tuple[str, ...] = ()
    style: StyleRules = field(default_factory=StyleRules)
    decline_patterns: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    corpus_dir: str = "corpus"
    corpus_required: bool = True  # task.yaml names its corpus folder: it must exist
    drift_corpus_dir: str | None = None
    drift_note: str = ""
    score: str = "facts"
    list_labels: bool = True  # classification: the system message lists the allowed labels

    @property
    def is_classification(self) -> bool:
        return self.type == "classification"


@dataclass(frozen=True)
class Document:
    """One knowledge document. `doc_id` is its path relative to the corpus folder."""

    doc_id: str
    title: str
    text: str


@dataclass(frozen=True)
class TrainExample:
    """One labeled example, always as chat messages (a Bedrock-style
    prompt/completion pair becomes user + assistant)."""

    messages: tuple[dict[str, str], ...]
    line: int

    @property
    def question(self) -> str:
        """The last user turn: what leakage is checked against."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")

    @property
    def answer(self) -> str:
        """The final assistant turn: what SFT learns to produce."""
        return self.messages[-1]["content"]


@dataclass(frozen=True)
class TestItem:
    """One held-out question with what a right answer must contain."""

    __test__ = False  # not a pytest class

    id: str
    question: str
    reference: str
    facts: tuple[str, ...]
    kind: str
    line: int
    stale_facts: tuple[str, ...] = ()  # drift items: the superseded values
    topic: str = ""


@dataclass(frozen=True)
class Task:
    """A loaded, validated task."""

    spec: TaskSpec
    root: Path
    corpus: tuple[Document, ...]
    train: tuple[TrainExample, ...]
    test: tuple[TestItem, ...]
    corpus_v2: tuple[Document, ...] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def current_corpus(self) -> tuple[Document, ...]:
        """The knowledge as it is at test time (v2 when the task has drift)."""
        return self.corpus_v2 if self.corpus_v2 is not None else self.corpus

    @property
    def labels(self) -> tuple[str, ...]:
        return self.spec.labels

    def content_hashes(self) -> dict[str, str]:
        """sha256 of every file that defines the task, keyed by relative path."""
        hashes = {}
        for path in sorted(_task_files(self.root, self.spec)):
            hashes[path.relative_to(self.root).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
        return hashes

    def content_hash(self) -> str:
        """One sha256 over all task files (names and contents)."""
        digest = hashlib.sha256()
        for name, value in self.content_hashes().items():
            digest.update(f"{name}\0{value}\n".encode())
        return digest.hexdigest()


def _task_files(root: Path, spec: TaskSpec) -> Iterator[Path]:
    yield root / "task.yaml"
    yield root / "train.jsonl"
    yield root / "test.jsonl"
    for folder in (spec.corpus_dir, spec.drift_corpus_dir):
        if folder and (root / folder).is_dir():
            yield from _corpus_paths(root / folder)


def _corpus_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in CORPUS_SUFFIXES)


class Problems:
    """Where loading puts each problem it finds: raised at once (`load_task`),
    or collected so that every one is reported (`check_task`)."""

    def __init__(self, collect: bool) -> None:
        self.collect = collect
        self.errors: list[TaskError] = []

    def add(self, error: TaskError) -> None:
        if not self.collect:
            raise error
        self.errors.append(error)


# ---------------------------------------------------------------- discovery


def list_builtin_tasks() -> list[str]:
    """Names of the tasks shipped under benchmarks/tasks/."""
    if not BUILTIN_TASKS_DIR.is_dir():
        return []
    return sorted(p.name for p in BUILTIN_TASKS_DIR.iterdir() if (p / "task.yaml").is_file())


def is_task_variant(name: str, names: list[str]) -> bool:
    """Whether a built-in task is a larger variant of another (`banking-large` of
    `banking`): the same corpus and test, so `--task all` runs only the original."""
    return "-" in name and name.rsplit("-", 1)[0] in names


def resolve_task_dir(name_or_path: str | Path) -> Path:
    """A built-in task name, or a path to a task folder."""
    candidate = Path(name_or_path).expanduser()
    if (candidate / "task.yaml").is_file():
        return candidate.resolve()
    builtin = BUILTIN_TASKS_DIR / str(name_or_path)
    if (builtin / "task.yaml").is_file():
        return builtin
    if (candidate / "task.yaml").is_dir():
        raise TaskError("expected a file, found a folder", file=candidate / "task.yaml")
    if candidate.is_dir():
        raise TaskError(
            "this folder is not a task: it has no task.yaml",
            file=candidate,
            hint="a task folder holds task.yaml, corpus/, train.jsonl and test.jsonl",
        )
    known = ", ".join(list_builtin_tasks()) or "none"
    raise TaskError(
        f"no task named '{name_or_path}' (built-in tasks: {known})",
        hint="pass a built-in task name or the path to a task folder",
    )


# ---------------------------------------------------------------- loading


def load_task(name_or_path: str | Path, *, allow_leakage: bool = False) -> Task:
    """Load and validate a task folder. Raises `TaskError` on the first problem."""
    task = _load(resolve_task_dir(name_or_path), allow_leakage, Problems(collect=False))
    assert task is not None  # strict loading raises instead
    return task


def check_task(
    name_or_path: str | Path, *, allow_leakage: bool = False
) -> tuple[Task | None, list[TaskError]]:
    """Every problem of a task folder, not only the first, and the task when it loads.

    The task is None when task.yaml itself cannot be read (nothing else can be
    checked without it) or when any problem was found.
    """
    problems = Problems(collect=True)
    try:
        root = resolve_task_dir(name_or_path)
    except TaskError as error:
        return None, [error]
    task = _load(root, allow_leakage, problems)
    return (task if not problems.errors else None), problems.errors


def _load(root: Path, allow_leakage: bool, problems: Problems) -> Task | None:
    try:
        spec = _load_spec(root / "task.yaml")
    except TaskError as error:
        problems.add(error)
        return None
    corpus = _load_corpus(
        root / spec.corpus_dir,
        field_name="corpus",
        problems=problems,
        required=spec.corpus_required,
    )
    corpus_v2 = (
        _load_corpus(root / spec.drift_corpus_dir, field_name="drift.corpus", problems=problems)
        if spec.drift_corpus_dir
        else None
    )
    train = _load_train(root / "train.jsonl", spec, problems)
    test = _load_test(root / "test.jsonl", spec, problems)
    if not allow_leakage:
        _check_leakage(root, train, test, problems)
    if problems.errors:
        return None
    return Task(spec=spec, root=root, corpus=corpus, train=train, test=test, corpus_v2=corpus_v2)


def _require(
    data: dict, key: str, kind: type | tuple[type, ...], file: Path, line: int | None = None
):
    if key not in data:
        raise TaskError("missing required field", file=file, line=line, field=key)
    value = data[key]
    if not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise TaskError(
            f"expected {expected}, got {type(value).__name__}", file=file, line=line, field=key
        )
    if isinstance(value, str) and not value.strip():
        raise TaskError("must not be empty", file=file, line=line, field=key)
    return value


def _str_list(data: dict, key: str, file: Path, line: int | None = None) -> tuple[str, ...]:
    value = data.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError("expected a list of strings", file=file, line=line, field=key)
    return tuple(value)


def _check_regexes(patterns: tuple[str, ...], file: Path, field_name: str) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TaskError(
                f"not a valid regular expression ({exc})", file=file, field=field_name
            ) from None


def _load_spec(path: Path) -> TaskSpec:
    text = read_text(path, TaskError, what="task file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path, TaskError) from None
    if not isinstance(data, dict):
        raise TaskError("expected a mapping of fields", file=path, hint=_SPEC_HINT)
    try:
        return _parse_spec(data, path)
    except TaskError as error:
        raise locate(error, path, yaml_key_lines(text)) from None


_SPEC_HINT = "task.yaml holds name, version, description, domain and system_prompt"


def _parse_spec(data: dict[str, Any], path: Path) -> TaskSpec:
    name = _require(data, "name", str, path)
    version = _require(data, "version", int, path)
    if isinstance(version, bool):
        raise TaskError("expected a whole number, got bool", file=path, field="version")
    description = _require(data, "description", str, path)
    domain = _require(data, "domain", str, path)
    system_prompt = _require(data, "system_prompt", str, path)
    task_type = data.get("type", "generation")
    if task_type not in TASK_TYPES:
        raise TaskError(
            f"unknown task type '{task_type}' (one of {', '.join(TASK_TYPES)})",
            file=path,
            field="type",
        )
    labels = _str_list(data, "labels", path)
    if task_type == "classification" and not labels:
        raise TaskError("a classification task lists its labels", file=path, field="labels")

    style_data = data.get("style") or {}
    if not isinstance(style_data, dict):
        raise TaskError("expected a mapping", file=path, field="style")
    max_words = style_data.get("max_words")
    if max_words is not None and (
        not isinstance(max_words, int) or isinstance(max_words, bool) or max_words <= 0
    ):
        raise TaskError("expected a positive whole number", file=path, field="style.max_words")
    money_pattern = style_data.get("money_pattern")
    if money_pattern is not None and not isinstance(money_pattern, str):
        raise TaskError(
            f"expected a regular expression (text), got {type(money_pattern).__name__}",
            file=path,
            field="style.money_pattern",
            hint="quote it, e.g. money_pattern: 'Q\\d+\\.\\d{2}'",
        )
    style = StyleRules(
        description=str(style_data.get("description", "")).strip(),
        max_words=max_words,
        money_pattern=money_pattern,
        required_patterns=_str_list(style_data, "required_patterns", path),
        forbidden_patterns=_str_list(style_data, "forbidden_patterns", path),
    )
    _check_regexes(style.required_patterns, path, "style.required_patterns")
    _check_regexes(style.forbidden_patterns, path, "style.forbidden_patterns")
    if style.money_pattern:
        _check_regexes((style.money_pattern,), path, "style.money_pattern")

    decline = data.get("decline") or {}
    if not isinstance(decline, dict):
        raise TaskError("expected a mapping with 'patterns'", file=path, field="decline")
    decline_patterns = _str_list(decline, "patterns", path)
    _check_regexes(decline_patterns, path, "decline.patterns")

    drift = data.get("drift") or {}
    if not isinstance(drift, dict):
        raise TaskError("expected a mapping with 'corpus'", file=path, field="drift")
    corpus_dir = data.get("corpus") or "corpus"
    if not isinstance(corpus_dir, str):
        raise TaskError("expected a folder name", file=path, field="corpus")
    drift_dir = drift.get("corpus")
    if drift_dir is not None and not isinstance(drift_dir, str):
        raise TaskError(
            f"expected a folder name, got {type(drift_dir).__name__}",
            file=path,
            field="drift.corpus",
            hint="the folder beside task.yaml with the corpus after the change, e.g. corpus_v2",
        )
    score = data.get("score", "facts")
    if task_type == "classification":
        score = "label"
    elif score not in SCORES:
        raise TaskError(f"one of {', '.join(SCORES)}", file=path, field="score")
    if len(set(labels)) != len(labels):
        twice = sorted({label for label in labels if labels.count(label) > 1})
        raise TaskError(f"listed twice: {', '.join(twice)}", file=path, field="labels")
    return TaskSpec(
        name=name,
        version=version,
        description=description.strip(),
        domain=domain.strip(),
        system_prompt=system_prompt.strip(),
        type=task_type,
        labels=labels,
        style=style,
        decline_patterns=decline_patterns,
        metrics=_str_list(data, "metrics", path),
        corpus_dir=corpus_dir,
        corpus_required=bool(data.get("corpus")),
        drift_corpus_dir=drift_dir,
        drift_note=str(drift.get("note", "")).strip(),
        score=score,
    )


def _load_corpus(
    folder: Path, *, field_name: str, problems: Problems, required: bool = True
) -> tuple[Document, ...]:
    """The documents of a corpus folder; an absent optional corpus is empty."""
    if not folder.is_dir():
        if folder.exists():
            problems.add(TaskError("expected a folder of documents", file=folder, field=field_name))
        elif required:
            problems.add(TaskError("corpus folder not found", file=folder, field=field_name))
        return ()
    docs = []
    for path in _corpus_paths(folder):
        try:
            text = read_text(path, TaskError, what="document").strip()
        except TaskError as error:
            problems.add(error)
            continue
        if not text:
            problems.add(TaskError("document is empty", file=path))
            continue
        first = text.splitlines()[0].lstrip("# ").strip()
        docs.append(Document(doc_id=path.relative_to(folder).as_posix(), title=first, text=text))
    if not docs and not problems.errors:
        problems.add(
            TaskError(
                f"no documents ({' or '.join(CORPUS_SUFFIXES)} files)",
                file=folder,
                field=field_name,
                hint="add documents, or remove the folder (a corpus is optional)",
            )
        )
    return tuple(docs)


def parse_train_record(record: dict[str, Any], path: Path, line: int) -> TrainExample:
    """One train.jsonl record in either supported shape, as chat messages."""
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise TaskError(
                "expected a non-empty list of messages", file=path, line=line, field="messages"
            )
        parsed = []
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                raise TaskError(
                    "expected an object with role and content", file=path, line=line, field=where
                )
            role = message.get("role")
            if role not in ROLES:
                raise TaskError(
                    f"unknown role {role!r} (one of {', '.join(ROLES)})",
                    file=path,
                    line=line,
                    field=f"{where}.role",
                )
            content = message.get("content")
            if not isinstance(content, str) or not content.strip():
                raise TaskError(
                    "missing or empty content", file=path, line=line, field=f"{where}.content"
                )
            parsed.append({"role": role, "content": content})
        if parsed[-1]["role"] != "assistant":
            raise TaskError(
                "the last message must be the assistant's answer",
                file=path,
                line=line,
                field="messages",
            )
        if not any(m["role"] == "user" for m in parsed):
            raise TaskError("no user message", file=path, line=line, field="messages")
        return TrainExample(messages=tuple(parsed), line=line)
    if "prompt" in record or "completion" in record:
        prompt = _require(record, "prompt", str, path, line)
        completion = _require(record, "completion", str, path, line)
        return TrainExample(
            messages=(
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": completion},
            ),
            line=line,
        )
    raise TaskError(
        "expected 'messages' (chat) or 'prompt' and 'completion'",
        file=path,
        line=line,
        field="messages",
    )


def _records(path: Path, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    """The file's records; a broken line is a problem and the reading goes on
    (a missing, empty or undecodable file stops it)."""
    try:
        lines = read_jsonl_lines(path, TaskError)
    except TaskError as error:
        problems.add(error)
        return
    for number, raw in lines:
        try:
            yield number, parse_jsonl_line(raw, path, number, TaskError)
        except TaskError as error:
            problems.add(error)


def _load_train(path: Path, spec: TaskSpec, problems: Problems) -> tuple[TrainExample, ...]:
    examples = []
    for line, record in _records(path, problems):
        try:
            example = parse_train_record(record, path, line)
        except TaskError as error:
            problems.add(error)
            continue
        if spec.is_classification and example.answer.strip() not in spec.labels:
            problems.add(
                TaskError(
                    f"answer '{_clip(example.answer)}' is not one of the task's labels",
                    file=path,
                    line=line,
                    field="answer",
                    hint="a classification task's answers are its labels, listed in task.yaml",
                )
            )
            continue
        examples.append(example)
    return tuple(examples)


def _clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _load_test(path: Path, spec: TaskSpec, problems: Problems) -> tuple[TestItem, ...]:
    items = []
    first_line: dict[str, int] = {}
    for line, record in _records(path, problems):
        try:
            item = _parse_test_record(record, path, line, spec)
        except TaskError as error:
            problems.add(error)
            continue
        if item.id in first_line:
            problems.add(
                TaskError(
                    f"duplicate id '{item.id}' (first on line {first_line[item.id]})",
                    file=path,
                    line=line,
                    field="id",
                )
            )
            continue
        first_line[item.id] = line
        items.append(item)
    return tuple(items)


def _parse_test_record(record: dict[str, Any], path: Path, line: int, spec: TaskSpec) -> TestItem:
    item_id = str(_require(record, "id", (str, int), path, line))
    question = _require(record, "question", str, path, line)
    reference = _require(record, "reference", str, path, line)
    if spec.is_classification:
        kind = record.get("kind", "seen")
        if not isinstance(kind, str):
            raise TaskError("expected str", file=path, line=line, field="kind")
    else:
        kind = _require(record, "kind", str, path, line)
    if kind not in KINDS:
        raise TaskError(
            f"unknown kind '{kind}' (one of {', '.join(KINDS)})", file=path, line=line, field="kind"
        )
    if "facts" not in record and not (spec.is_classification or spec.score != "facts"):
        raise TaskError("missing required field", file=path, line=line, field="facts")
    facts = _str_list(record, "facts", path, line)
    needs_facts = spec.type == "generation" and spec.score == "facts"
    if needs_facts and kind not in ("out_of_scope", "style") and not facts:
        raise TaskError(
            f"a '{kind}' item needs at least one fact", file=path, line=line, field="facts"
        )
    if spec.is_classification and reference not in spec.labels:
        raise TaskError(
            f"reference '{reference}' is not one of the task's labels",
            file=path,
            line=line,
            field="reference",
        )
    return TestItem(
        id=item_id,
        question=question,
        reference=reference,
        facts=facts,
        kind=kind,
        line=line,
        stale_facts=_str_list(record, "stale_facts", path, line),
        topic=str(record.get("topic", "")),
    )


def normalise_question(text: str) -> str:
    """Case, punctuation and spacing folded: what counts as 'the same question'."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _check_leakage(
    root: Path, train: tuple[TrainExample, ...], test: tuple[TestItem, ...], problems: Problems
) -> None:
    seen: dict[str, int] = {}
    for example in train:
        seen.setdefault(normalise_question(example.question), example.line)
    for item in test:
        train_line = seen.get(normalise_question(item.question))
        if train_line is not None:
            problems.add(
                TaskError(
                    f"test item '{item.id}' asks the same question as train.jsonl line {train_line}: "
                    "leakage would inflate fine-tuning scores",
                    file=root / "test.jsonl",
                    line=item.line,
                    field="question",
                    hint="reword or remove one of them, or pass --allow-leakage to measure it anyway",
                )
            )
