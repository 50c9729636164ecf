"""Generate a built-in generation task (`banking`, `health`, `legal`) from its facts table.

    python -m benchmarks.generators.banking              # rewrite benchmarks/tasks/banking/
    python -m benchmarks.generators.banking --out DIR    # write the task folder elsewhere
    python -m benchmarks.generators.banking --check      # exit 1 if the committed files are stale

(and the same with `health` or `legal`). `<name>_facts.yaml` (next to this
file) is the single source: every corpus sentence, train example and test item
comes from it, so a figure can only be changed in one place. Generation is deterministic (no randomness, stable order,
`\\n` line endings, JSON with a fixed key order), so the committed task folder
must equal a fresh regeneration byte for byte.

Before writing anything the generator checks the table against the promises the
task makes — every answer carries its facts in the house style, the corpus
states every fact, corpus-only facts never reach train.jsonl, drift values are
unambiguous, no test question repeats or nearly repeats a train question — and
refuses with a `TaskError` naming the table's line and field.

A table may have variants: `<name>_facts_<variant>.yaml` adds train wordings,
style examples and out-of-scope questions to the same facts and writes the
built-in task `<name>-<variant>` (e.g. `banking-large`), whose task.yaml differs
only in name and description and whose corpus and test set are the table's own.
The generator writes and checks every variant with its table; `--variant` and
`--out` write one folder elsewhere. A variant's train set passes the same checks,
and a problem in the variant's file is reported at that file's line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import TaskError
from advisor.fileio import yaml_error
from advisor.tasks import BUILTIN_TASKS_DIR, normalise_question

GENERATORS_DIR = Path(__file__).resolve().parent
CORPUS_DIR = "corpus"
DRIFT_CORPUS_DIR = "corpus_v2"
# Named after what benchmarks.metrics.score_item reports.
METRICS = (
    "fact_recall",
    "exact",
    "token_f1",
    "embedding_similarity",
    "style",
    "correct_decline",
    "hallucinated_numbers",
    "stale",
)
STATUSES = ("taught", "corpus_only")
TRAIN_WORDINGS = (6, 8)  # how many user wordings a taught fact needs (min, max)
NEAR_COPY_JACCARD = 0.6  # a test question sharing more of its words with a train one is a near copy
MINIMUMS = {"facts": 40, "taught facts": 30, "documents": 15, "train": 300, "test": 120}
VERSIONS = ("v1", "v2")
MONEY_FIND = r"Q\s?\d[\d,]*(?:\.\d+)?"
"""How amounts are found in an answer to check their format (a table may set
`style.money_find`; the default finds quetzales written as Q)."""


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class TestQuestion:
    """One test question about a fact; `answer`/`facts` override the fact's own."""

    __test__ = False  # not a pytest class

    question: str
    answer: str | None = None
    facts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Fact:
    """One row of the facts table (see the header of banking_facts.yaml)."""

    id: str
    doc: str
    topic: str
    status: str
    values: dict[str, tuple[str, str]]  # name -> (v1, v2); equal when the value never changes
    corpus: tuple[str, ...]
    facts: tuple[str, ...]
    answers: tuple[str, ...]
    train: tuple[str, ...]
    test: tuple[TestQuestion, ...]
    line: int

    @property
    def taught(self) -> bool:
        return self.status == "taught"

    @property
    def drift(self) -> bool:
        """Whether a value changes between corpus v1 and corpus v2."""
        return any(v1 != v2 for v1, v2 in self.values.values())

    def render(self, template: str, version: str = "v1") -> str:
        """A template with the fact's values of one version filled in."""
        index = VERSIONS.index(version)
        return template.format(**{name: pair[index] for name, pair in self.values.items()})

    def fact_keys(self, version: str = "v1") -> tuple[str, ...]:
        return tuple(self.render(f, version) for f in self.facts)

    def drifting_keys(self, version: str) -> tuple[str, ...]:
        """The fact keys whose value changes: what a drift item asks (v2) or must not say (v1)."""
        changing = {name for name, (v1, v2) in self.values.items() if v1 != v2}
        templates = [f for f in self.facts if any(f"{{{name}}}" in f for name in changing)]
        return tuple(self.render(f, version) for f in templates)


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    intro: str
    closing: str


@dataclass(frozen=True)
class StyleExample:
    """A question probing the house format; `fact` borrows a fact's keys and answer."""

    question: str
    fact: str | None
    answer: str | None
    line: int
    file: Path | None = None  # where it was written when not in the table itself (a variant)


@dataclass(frozen=True)
class Place:
    """Where a variant's train question was written: what its errors point at."""

    file: Path
    line: int
    field: str


@dataclass(frozen=True)
class Table:
    path: Path
    task: dict[str, Any]
    documents: tuple[Document, ...]
    facts: tuple[Fact, ...]
    style_train: tuple[StyleExample, ...]
    style_test: tuple[StyleExample, ...]
    out_of_scope_train: tuple[str, ...]
    out_of_scope_test: tuple[str, ...]
    train_wordings: tuple[int, int] = TRAIN_WORDINGS
    minimums: Mapping[str, int] = field(default_factory=lambda: dict(MINIMUMS))
    variant_file: Path | None = None  # the variant file merged in, if any
    places: Mapping[str, Place] = field(default_factory=dict)  # variant train question -> place

    @property
    def generator(self) -> str:
        """The generator module's name: `banking` for banking_facts.yaml."""
        return self.path.stem.removesuffix("_facts")

    def fact(self, fact_id: str) -> Fact:
        return next(f for f in self.facts if f.id == fact_id)

    @property
    def sign_off(self) -> str:
        return self.task["sign_off"]

    def signed(self, answer: str) -> str:
        """The house answer: the text plus the fixed sign-off."""
        return answer.rstrip() + self.sign_off

    @property
    def decline(self) -> str:
        return self.signed(_one_line(self.task["decline"]["answer"]))


def facts_file(name: str) -> Path:
    """The facts table of built-in task `name`."""
    return GENERATORS_DIR / f"{name}_facts.yaml"


def default_out(name: str) -> Path:
    """Where built-in task `name` is committed."""
    return BUILTIN_TASKS_DIR / name


def variant_file(name: str, variant: str) -> Path:
    """The file that adds variant `variant` (e.g. `large`) to the table of task `name`."""
    return GENERATORS_DIR / f"{name}_facts_{variant}.yaml"


def variants(name: str) -> list[str]:
    """The variants of task `name` that have a file next to its table."""
    prefix = f"{name}_facts_"
    return sorted(p.stem.removeprefix(prefix) for p in GENERATORS_DIR.glob(f"{prefix}*.yaml"))


def load_table(path: Path) -> Table:
    """Read and structurally check the facts table."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        lines = _item_lines(yaml.compose(text))
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path, TaskError) from None
    for section in ("task", "documents", "facts", "style_examples", "out_of_scope"):
        if section not in data:
            raise TaskError("missing section", file=path, field=section)
    documents = tuple(
        Document(d["id"], d["title"], _one_line(d["intro"]), _one_line(d["closing"]))
        for d in data["documents"]
    )
    facts = tuple(
        _parse_fact(raw, path, line)
        for raw, line in zip(data["facts"], lines["facts"], strict=True)
    )
    style = data["style_examples"]
    return Table(
        path=path,
        task=data["task"],
        documents=documents,
        facts=facts,
        style_train=_style_examples(style["train"], lines["style_examples.train"]),
        style_test=_style_examples(style["test"], lines["style_examples.test"]),
        out_of_scope_train=tuple(data["out_of_scope"]["train"]),
        out_of_scope_test=tuple(data["out_of_scope"]["test"]),
    )


VARIANT_TASK_KEYS = ("name", "description")
"""What a variant may change in task.yaml: the rest (prompt, style, decline) is the table's."""


def load_variant(base: Table, path: Path) -> Table:
    """The table with a variant's extra train wordings, style examples and declines merged in.

    The variant file (see the header of banking_facts_large.yaml) is keyed by
    fact id and never restates a fact, an answer or a test question: the corpus
    and the test set stay the table's own, only train.jsonl grows.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path, TaskError) from None
    if not isinstance(data, dict):
        raise TaskError("expected a mapping", file=path)
    for section in ("task", "train_wordings", "minimum_train", "facts", "style_examples"):
        if section not in data:
            raise TaskError("missing section", file=path, field=section)
    lines = _item_lines(root)
    keys = _key_lines(root, "facts")
    extra_task = data["task"]
    for key in extra_task:
        if key not in VARIANT_TASK_KEYS:
            raise TaskError(
                f"a variant may only set {', '.join(VARIANT_TASK_KEYS)} of the task",
                file=path,
                field=f"task.{key}",
            )
    low, high = (int(n) for n in data["train_wordings"])
    places: dict[str, Place] = {}
    extra: dict[str, tuple[str, ...]] = {}
    known = {f.id: f for f in base.facts}
    for fact_id, wordings in data["facts"].items():
        where = f"facts.{fact_id}"
        fact = known.get(fact_id)
        if fact is None or not fact.taught:
            raise TaskError(
                f"'{fact_id}' is not a taught fact of {base.path.name}",
                file=path,
                line=keys[fact_id],
                field=where,
                hint="a corpus-only fact gets no train wordings: its test items would not be unseen",
            )
        extra[fact_id] = tuple(str(w) for w in wordings or ())
        for index, (wording, line) in enumerate(zip(extra[fact_id], lines[where], strict=True)):
            places[wording] = Place(path, line, f"{where}[{index}]")
    for fact in base.facts:
        total = len(fact.train) + len(extra.get(fact.id, ()))
        if fact.taught and not low <= total <= high:
            raise TaskError(
                f"a taught fact needs {low}-{high} train wordings here, has {total} "
                f"({len(fact.train)} in {base.path.name})",
                file=path,
                line=keys.get(fact.id),
                field=f"facts.{fact.id}",
            )
    style = tuple(
        replace(example, file=path)
        for example in _style_examples(data["style_examples"], lines["style_examples"])
    )
    for index, example in enumerate(style):
        places[example.question] = Place(path, example.line, f"style_examples[{index}]")
    declines = tuple(str(q) for q in data.get("out_of_scope") or ())
    for index, (question, line) in enumerate(
        zip(declines, lines.get("out_of_scope", []), strict=True)
    ):
        places[question] = Place(path, line, f"out_of_scope[{index}]")
    return replace(
        base,
        task={**base.task, **{k: _one_line(v) for k, v in extra_task.items()}},
        facts=tuple(replace(f, train=f.train + extra.get(f.id, ())) for f in base.facts),
        style_train=base.style_train + style,
        out_of_scope_train=base.out_of_scope_train + declines,
        train_wordings=(low, high),
        minimums={**base.minimums, "train": int(data["minimum_train"])},
        variant_file=path,
        places=places,
    )


def _key_lines(root: yaml.Node, section: str) -> dict[str, int]:
    """1-based line of every key of a top-level mapping (a variant's `facts`)."""
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == section and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return {}


def _item_lines(root: yaml.Node) -> dict[str, list[int]]:
    """1-based line of every item of the table's lists, so errors can point at them."""
    lines: dict[str, list[int]] = {}

    def visit(node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                visit(value, f"{prefix}.{key.value}" if prefix else key.value)
        elif isinstance(node, yaml.SequenceNode):
            lines[prefix] = [item.start_mark.line + 1 for item in node.value]

    visit(root, "")
    return lines


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _parse_fact(raw: dict[str, Any], path: Path, line: int) -> Fact:
    where = f"facts[{raw.get('id', '?')}]"
    for key in ("id", "doc", "topic", "status", "corpus", "facts", "answers", "test"):
        if not raw.get(key):
            raise TaskError("missing or empty", file=path, line=line, field=f"{where}.{key}")
    values = {}
    for name, value in (raw.get("values") or {}).items():
        if isinstance(value, dict):
            values[name] = (str(value["v1"]), str(value["v2"]))
        else:
            values[name] = (str(value), str(value))
    tests = tuple(
        TestQuestion(t)
        if isinstance(t, str)
        else TestQuestion(
            t["question"], t.get("answer"), tuple(t["facts"]) if "facts" in t else None
        )
        for t in raw["test"]
    )
    return Fact(
        id=raw["id"],
        doc=raw["doc"],
        topic=raw["topic"],
        status=raw["status"],
        values=values,
        corpus=tuple(_one_line(s) for s in raw["corpus"]),
        facts=tuple(str(f) for f in raw["facts"]),
        answers=tuple(_one_line(a) for a in raw["answers"]),
        train=tuple(raw.get("train") or ()),
        test=tests,
        line=line,
    )


def _style_examples(raw: list[dict[str, Any]], lines: list[int]) -> tuple[StyleExample, ...]:
    return tuple(
        StyleExample(r["question"], r.get("fact"), r.get("answer"), line)
        for r, line in zip(raw, lines, strict=True)
    )


# ---------------------------------------------------------------- matching


def normalise(text: str) -> str:
    """Lower case, one kind of dash and space: how fact keys are compared with text."""
    text = text.replace("\u2013", "-").replace("\u2011", "-").replace("\u00a0", " ")
    return " ".join(text.lower().split())


def mentions(text: str, key: str) -> bool:
    """Whether `text` states `key` as a whole figure or phrase.

    A plain substring test would find "Q5.00" inside "Q15.00" and "3 business
    days" inside "2-3 business days"; the key must not continue a number or word.
    """
    pattern = r"(?<![\w.,\-])" + re.escape(normalise(key)) + r"(?![\w]|[.,]\d)"
    return re.search(pattern, normalise(text)) is not None


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class TrainRecord:
    question: str
    answer: str
    source: str  # a fact id, "style" or "out_of_scope": what validation needs to know
    place: Place | None = None  # where a variant wrote the question (None: the table)


@dataclass(frozen=True)
class TestRecord:
    __test__ = False  # not a pytest class

    kind: str
    topic: str
    question: str
    reference: str
    facts: tuple[str, ...]
    stale_facts: tuple[str, ...] = ()
    fact_id: str | None = None


def corpus_text(table: Table, document: Document, version: str) -> str:
    """One Markdown document: title, intro, one paragraph per fact, closing line.

    Paragraphs stay on one line each: continued pre-training reads the raw text,
    and a line break inside a sentence is noise it would learn.
    """
    paragraphs = [f"# {document.title}", document.intro]
    for fact in table.facts:
        if fact.doc == document.id:
            paragraphs.append(" ".join(fact.render(s, version) for s in fact.corpus))
    paragraphs.append(document.closing)
    return "\n\n".join(paragraphs)


def style_answer(table: Table, example: StyleExample) -> tuple[str, tuple[str, ...]]:
    """A style example's signed answer and the keys it must carry."""
    fact = table.fact(example.fact) if example.fact else None
    answer = example.answer or (fact.render(fact.answers[0]) if fact else "")
    return table.signed(_one_line(answer)), fact.fact_keys() if fact else ()


def build_train_records(table: Table) -> list[TrainRecord]:
    """Every train example, interleaved so that any prefix covers every fact.

    Round k holds the k-th wording of every taught fact plus an even share of the
    out-of-scope and style examples: a strategy that trains on the first N
    examples (a quick profile, a learning curve) still sees the whole bank.
    """
    taught = [f for f in table.facts if f.taught]
    rounds = max(len(f.train) for f in taught)
    records = []

    def record(question: str, answer: str, source: str) -> None:
        records.append(TrainRecord(question, answer, source, table.places.get(question)))

    for k in range(rounds):
        for fact in taught:
            if k < len(fact.train):
                answer = fact.render(fact.answers[k % len(fact.answers)])
                record(fact.train[k], table.signed(answer), fact.id)
        for question in table.out_of_scope_train[k::rounds]:
            record(question, table.decline, "out_of_scope")
        for example in table.style_train[k::rounds]:
            record(example.question, style_answer(table, example)[0], "style")
    return records


def build_test_records(table: Table) -> list[TestRecord]:
    """Every test item, the kinds interleaved so that any prefix samples all of them.

    The harness's `--limit N` scores the first N items: a smoke run should still
    meet an unseen, a style, an out-of-scope and a drift question.
    """
    by_kind: dict[str, list[TestRecord]] = {
        kind: [] for kind in ("seen", "unseen", "style", "out_of_scope", "drift")
    }
    for fact in table.facts:
        for test in fact.test:
            if fact.drift:
                answer = fact.render(test.answer or fact.answers[0], "v2")
                by_kind["drift"].append(
                    TestRecord(
                        "drift",
                        fact.topic,
                        test.question,
                        table.signed(answer),
                        fact.drifting_keys("v2"),
                        fact.drifting_keys("v1"),
                        fact.id,
                    )
                )
                continue
            kind = "seen" if fact.taught else "unseen"
            answer = fact.render(test.answer or fact.answers[0])
            keys = test.facts if test.facts is not None else fact.fact_keys()
            by_kind[kind].append(
                TestRecord(
                    kind, fact.topic, test.question, table.signed(answer), keys, fact_id=fact.id
                )
            )
    for example in table.style_test:
        reference, keys = style_answer(table, example)
        topic = table.fact(example.fact).topic if example.fact else "style"
        by_kind["style"].append(
            TestRecord("style", topic, example.question, reference, keys, fact_id=example.fact)
        )
    for question in table.out_of_scope_test:
        by_kind["out_of_scope"].append(
            TestRecord("out_of_scope", "out_of_scope", question, table.decline, ())
        )
    groups = list(by_kind.values())
    return [group[i] for i in range(max(map(len, groups))) for group in groups if i < len(group)]


def build_test_rows(records: Sequence[TestRecord]) -> list[dict[str, Any]]:
    """test.jsonl rows, ids numbered per kind (`seen-001`)."""
    rows, counters = [], {}
    for record in records:
        counters[record.kind] = counters.get(record.kind, 0) + 1
        row = {
            "id": f"{record.kind.replace('_', '-')}-{counters[record.kind]:03d}",
            "kind": record.kind,
            "topic": record.topic,
            "question": record.question,
            "reference": record.reference,
            "facts": list(record.facts),
        }
        if record.stale_facts:
            row["stale_facts"] = list(record.stale_facts)
        rows.append(row)
    return rows


def _jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _quoted(text: str) -> str:
    """A YAML single-quoted scalar: regexes and sign-offs survive untouched."""
    return "'" + text.replace("'", "''") + "'"


def _folded(text: str, indent: int) -> str:
    """A YAML folded block (`>-`) wrapped at 100 columns."""
    pad = " " * indent
    wrapped = textwrap.fill(
        _one_line(text),
        width=100,
        initial_indent=pad,
        subsequent_indent=pad,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return ">-\n" + wrapped


def task_yaml(table: Table) -> str:
    """task.yaml, written by hand so its layout (and comments) stay stable."""
    task, style, decline = table.task, table.task["style"], table.task["decline"]
    drift_facts = [f for f in table.facts if f.drift]
    changes = "; ".join(
        f"{f.id}: {', '.join(f.drifting_keys('v1'))} -> {', '.join(f.drifting_keys('v2'))}"
        for f in drift_facts
    )
    note = f"{_one_line(task['drift_note'])} Changed: {changes}."
    if table.variant_file is None:
        source = f"# benchmarks/generators/{table.path.name}: edit the table, not this file."
    else:
        source = (
            f"# benchmarks/generators/{table.path.name} and {table.variant_file.name}: "
            "edit those, not this file."
        )
    out = [
        f"# Generated by `python -m benchmarks.generators.{table.generator}` from",
        source,
        f"name: {task['name']}",
        f"version: {task['version']}",
        f"description: {_folded(task['description'], 2)}",
        f"domain: {_quoted(task['domain'])}",
        f"system_prompt: {_folded(task['system_prompt'], 2)}",
        "style:",
        f"  description: {_folded(style['description'], 4)}",
        f"  max_words: {style['max_words']}",
        f"  money_pattern: {_quoted(style['money_pattern'])}",
        "  required_patterns:",
        *(f"    - {_quoted(p)}" for p in style["required_patterns"]),
        "  forbidden_patterns:",
        *(f"    - {_quoted(p)}" for p in style["forbidden_patterns"]),
        "decline:",
        "  # the house decline every out-of-scope reference uses; patterns recognise a decline",
        f"  answer: {_folded(table.decline, 4)}",
        "  patterns:",
        *(f"    - {_quoted(p)}" for p in decline["patterns"]),
        f"metrics: [{', '.join(METRICS)}]",
        f"corpus: {CORPUS_DIR}",
        "drift:",
        f"  corpus: {DRIFT_CORPUS_DIR}",
        f"  note: {_folded(note, 4)}",
    ]
    return "\n".join(out) + "\n"


def expected_task_spec(table: Table) -> dict[str, Any]:
    """What task.yaml must load back as: guards the hand-written YAML above."""
    task, style = table.task, table.task["style"]
    return {
        "name": task["name"],
        "version": task["version"],
        "description": _one_line(task["description"]),
        "domain": task["domain"],
        "system_prompt": _one_line(task["system_prompt"]),
        "style": {
            "description": _one_line(style["description"]),
            "max_words": style["max_words"],
            "money_pattern": style["money_pattern"],
            "required_patterns": list(style["required_patterns"]),
            "forbidden_patterns": list(style["forbidden_patterns"]),
        },
        "decline": {"answer": table.decline, "patterns": list(task["decline"]["patterns"])},
        "metrics": list(METRICS),
        "corpus": CORPUS_DIR,
    }


def build(table: Table) -> dict[str, str]:
    """The whole task folder as {relative path: text}, after validating the table."""
    train, test = build_train_records(table), build_test_records(table)
    files = {"task.yaml": task_yaml(table)}
    for document in table.documents:
        for folder, version in ((CORPUS_DIR, "v1"), (DRIFT_CORPUS_DIR, "v2")):
            files[f"{folder}/{document.id}.md"] = corpus_text(table, document, version) + "\n"
    files["train.jsonl"] = _jsonl(
        {
            "messages": [
                {"role": "user", "content": r.question},
                {"role": "assistant", "content": r.answer},
            ]
        }
        for r in train
    )
    files["test.jsonl"] = _jsonl(build_test_rows(test))
    validate(table, files, train, test)
    return dict(sorted(files.items()))


# ---------------------------------------------------------------- validation


def validate(
    table: Table, files: dict[str, str], train: list[TrainRecord], test: list[TestRecord]
) -> None:
    """Refuse a table that breaks a promise the task makes (see the module docstring)."""
    _check_structure(table)
    _check_corpus_states_facts(table)
    _check_house_style(table, train, test)
    _check_corpus_only_not_taught(table, train)
    _check_drift_values(table, files)
    _check_questions(table, train, test)
    _check_minimums(table, train, test)
    loaded = yaml.safe_load(files["task.yaml"])
    expected = expected_task_spec(table)
    if {k: loaded.get(k) for k in expected} != expected:
        raise TaskError("task.yaml does not load back as the table says", file=table.path)


def _fail(
    table: Table,
    message: str,
    line: int | None,
    field: str,
    hint: str | None = None,
    *,
    file: Path | None = None,
):
    raise TaskError(message, file=file or table.path, line=line, field=field, hint=hint)


def _fail_at(place: Place, message: str, hint: str | None = None):
    raise TaskError(message, file=place.file, line=place.line, field=place.field, hint=hint)


def _check_structure(table: Table) -> None:
    doc_ids = [d.id for d in table.documents]
    if len(set(doc_ids)) != len(doc_ids):
        _fail(table, "two documents share an id", None, "documents")
    seen: set[str] = set()
    for fact in table.facts:
        where = f"facts[{fact.id}]"
        if fact.id in seen:
            _fail(table, f"duplicate fact id '{fact.id}'", fact.line, f"{where}.id")
        seen.add(fact.id)
        if fact.status not in STATUSES:
            _fail(
                table, f"status must be one of {', '.join(STATUSES)}", fact.line, f"{where}.status"
            )
        if fact.doc not in doc_ids:
            _fail(
                table,
                f"unknown document '{fact.doc}'",
                fact.line,
                f"{where}.doc",
                "add it under `documents` or fix the id",
            )
        low, high = table.train_wordings
        if fact.taught and not low <= len(fact.train) <= high:
            _fail(
                table,
                f"a taught fact needs {low}-{high} train wordings, has {len(fact.train)}",
                fact.line,
                f"{where}.train",
            )
        if not fact.taught and (fact.train or fact.drift):
            _fail(
                table,
                "a corpus-only fact has no train wordings and no drift",
                fact.line,
                f"{where}.train",
            )
        if not 1 <= len(fact.facts) <= 3:
            _fail(table, "give 1-3 fact keys", fact.line, f"{where}.facts")
        for template in (*fact.corpus, *fact.answers, *fact.facts):
            try:
                fact.render(template)
            except (KeyError, IndexError, ValueError) as exc:
                _fail(
                    table,
                    f"template {template!r} uses an unknown value ({exc})",
                    fact.line,
                    f"{where}.values",
                )
    if not any(d.id in {f.doc for f in table.facts} for d in table.documents):
        _fail(table, "no document holds a fact", None, "documents")
    for example in (*table.style_train, *table.style_test):
        if example.fact is None:
            if not example.answer:
                _fail(
                    table,
                    "a style example needs a fact or an answer",
                    example.line,
                    "answer",
                    file=example.file,
                )
            continue
        if example.fact not in seen:
            _fail(table, f"unknown fact '{example.fact}'", example.line, "fact", file=example.file)
        fact = table.fact(example.fact)
        if fact.drift or (example in table.style_train and not fact.taught):
            _fail(
                table,
                "style examples use taught facts that do not drift",
                example.line,
                "fact",
                "a corpus-only fact in train would leak; a drifting one has two right answers",
                file=example.file,
            )


def _check_corpus_states_facts(table: Table) -> None:
    for fact in table.facts:
        for version in VERSIONS:
            sentences = " ".join(fact.render(s, version) for s in fact.corpus)
            keys = list(fact.fact_keys(version))
            for test in fact.test:
                keys += [fact.render(k, version) for k in test.facts or ()]
            for key in keys:
                if not mentions(sentences, key):
                    _fail(
                        table,
                        f"the corpus sentence does not state '{key}' ({version})",
                        fact.line,
                        f"facts[{fact.id}].corpus",
                    )


def _house_style_problems(table: Table, answer: str) -> list[str]:
    style = table.task["style"]
    problems = []
    words = sum(1 for token in answer.split() if re.search(r"\w", token))
    if words > style["max_words"]:
        problems.append(f"{words} words (max {style['max_words']})")
    for amount in re.findall(style.get("money_find", MONEY_FIND), answer):
        if not re.fullmatch(style["money_pattern"], amount):
            problems.append(f"amount {amount!r} is not in the house money format")
    for pattern in style["required_patterns"]:
        if not re.search(pattern, answer.strip()):
            problems.append(f"missing required pattern {pattern!r}")
    for pattern in style["forbidden_patterns"]:
        if re.search(pattern, answer.strip()):
            problems.append(f"matches forbidden pattern {pattern!r}")
    return problems


def _fact_line(table: Table, fact_id: str | None) -> int | None:
    return table.fact(fact_id).line if fact_id else None


def _check_house_style(table: Table, train: list[TrainRecord], test: list[TestRecord]) -> None:
    for record in train:
        fact_id = record.source if record.source not in ("style", "out_of_scope") else None
        problems = _house_style_problems(table, record.answer)
        if problems and record.place and record.source == "style":
            _fail_at(record.place, f"answer {record.answer!r}: {'; '.join(problems)}")
        if problems:
            _fail(
                table,
                f"answer {record.answer!r}: {'; '.join(problems)}",
                _fact_line(table, fact_id),
                f"{record.source}.answers",
            )
        if fact_id:
            for key in table.fact(fact_id).fact_keys("v1"):
                if not mentions(record.answer, key):
                    _fail(
                        table,
                        f"answer {record.answer!r} does not state '{key}'",
                        _fact_line(table, fact_id),
                        f"facts[{fact_id}].answers",
                    )
    for record in test:
        problems = _house_style_problems(table, record.reference)
        missing = [k for k in record.facts if not mentions(record.reference, k)]
        if problems or missing:
            detail = "; ".join(problems + [f"does not state '{k}'" for k in missing])
            _fail(
                table,
                f"reference {record.reference!r}: {detail}",
                _fact_line(table, record.fact_id),
                f"{record.kind}.reference",
            )


def _check_corpus_only_not_taught(table: Table, train: list[TrainRecord]) -> None:
    every_answer = "\n".join(r.answer for r in train)
    for fact in table.facts:
        if fact.taught:
            continue
        for key in fact.fact_keys():
            if mentions(every_answer, key):
                leaked = [r.answer for r in train if mentions(r.answer, key)]
                _fail(
                    table,
                    f"corpus-only key '{key}' appears in a train answer: {leaked[0]!r}",
                    fact.line,
                    f"facts[{fact.id}].facts",
                    "use a figure no taught answer states, or make the fact taught",
                )


def _check_drift_values(table: Table, files: dict[str, str]) -> None:
    """A stale value must be absent from corpus v2 and a new one from corpus v1,
    or a drift item could not tell a stale answer from a current one."""
    corpus = {
        version: "\n".join(text for path, text in files.items() if path.startswith(f"{folder}/"))
        for version, folder in (("v1", CORPUS_DIR), ("v2", DRIFT_CORPUS_DIR))
    }
    for fact in table.facts:
        if not fact.drift:
            continue
        for key in fact.drifting_keys("v1"):
            if mentions(corpus["v2"], key):
                _fail(
                    table,
                    f"the old value '{key}' still appears in corpus v2",
                    fact.line,
                    f"facts[{fact.id}].values",
                    "pick a v1 value no other sentence states",
                )
        for key in fact.drifting_keys("v2"):
            if mentions(corpus["v1"], key):
                _fail(
                    table,
                    f"the new value '{key}' already appears in corpus v1",
                    fact.line,
                    f"facts[{fact.id}].values",
                    "pick a v2 value no other sentence states",
                )


def question_words(question: str) -> set[str]:
    return set(normalise_question(question).split())


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _check_questions(table: Table, train: list[TrainRecord], test: list[TestRecord]) -> None:
    seen: dict[str, tuple[str, Place | None]] = {}
    asked = [(r.question, "train", r.place) for r in train]
    for text, where, place in asked + [(r.question, "test", None) for r in test]:
        key = normalise_question(text)
        if key in seen:
            message = f"the question {text!r} appears twice ({seen[key][0]} and {where})"
            hint = "reword one of them: a test question equal to a train one is leakage"
            variant_place = place or seen[key][1]  # the table's own questions are the fixed ones
            if variant_place:
                _fail_at(variant_place, message, hint)
            _fail(table, message, None, "question", hint)
        seen[key] = (where, place)
    train_words = [(r.question, question_words(r.question), r.place) for r in train]
    for record in test:
        words = question_words(record.question)
        for question, other, place in train_words:
            if jaccard(words, other) > NEAR_COPY_JACCARD and place:
                _fail_at(
                    place,
                    f"train question {question!r} nearly copies test {record.question!r}",
                    "ask it in new words",
                )
            if jaccard(words, other) > NEAR_COPY_JACCARD:
                _fail(
                    table,
                    f"test question {record.question!r} nearly copies train {question!r}",
                    _fact_line(table, record.fact_id),
                    f"{record.kind}.question",
                    "ask it in new words",
                )


def _check_minimums(table: Table, train: list[TrainRecord], test: list[TestRecord]) -> None:
    counts = {
        "facts": len(table.facts),
        "taught facts": sum(f.taught for f in table.facts),
        "documents": len(table.documents),
        "train": len(train),
        "test": len(test),
    }
    for name, minimum in table.minimums.items():
        if counts[name] < minimum:
            file = table.variant_file if name == "train" else None
            _fail(table, f"{counts[name]} {name}, at least {minimum} needed", None, name, file=file)
    kinds = {r.kind for r in test}
    for kind in ("seen", "unseen", "style", "out_of_scope", "drift"):
        if kind not in kinds:
            _fail(table, f"no '{kind}' test item", None, "test")


# ---------------------------------------------------------------- writing and checking


def write(files: dict[str, str], out: Path) -> None:
    """Write the task folder, removing corpus documents the table no longer has."""
    for folder in (CORPUS_DIR, DRIFT_CORPUS_DIR):
        for old in sorted((out / folder).glob("*.md")) if (out / folder).is_dir() else []:
            if f"{folder}/{old.name}" not in files:
                old.unlink()
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


def stale_files(files: dict[str, str], out: Path) -> list[str]:
    """Files under `out` that differ from `files`, are missing, or should not be there."""
    problems = []
    for relative, text in files.items():
        path = out / relative
        if not path.is_file():
            problems.append(f"{relative} (missing)")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{relative} (differs)")
    for folder in (CORPUS_DIR, DRIFT_CORPUS_DIR):
        if (out / folder).is_dir():
            for path in sorted((out / folder).iterdir()):
                if f"{folder}/{path.name}" not in files:
                    problems.append(f"{folder}/{path.name} (not generated)")
    return problems


def summary(table: Table, files: dict[str, str]) -> str:
    taught = [f for f in table.facts if f.taught]
    drift = [f for f in taught if f.drift]
    kinds: dict[str, int] = {}
    for row in files["test.jsonl"].splitlines():
        kind = json.loads(row)["kind"]
        kinds[kind] = kinds.get(kind, 0) + 1
    return (
        f"{len(table.facts)} facts ({len(taught)} taught, {len(drift)} of them drift; "
        f"{len(table.facts) - len(taught)} corpus-only), {len(table.documents)} documents, "
        f"{len(files['train.jsonl'].splitlines())} train examples, "
        f"{len(files['test.jsonl'].splitlines())} test items "
        f"({', '.join(f'{k} {n}' for k, n in kinds.items())})"
    )


def main(argv: Sequence[str] | None = None, *, name: str = "banking") -> int:
    known = variants(name)
    parser = argparse.ArgumentParser(
        prog=f"python -m benchmarks.generators.{name}",
        description=f"Generate the built-in {name} task"
        + "".join(f" and {name}-{v}" for v in known)
        + f" from {name}_facts.yaml.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"write one task folder here: {name}, or --variant's "
        f"(default: each built-in folder under benchmarks/tasks/)",
    )
    parser.add_argument(
        "--facts", type=Path, default=facts_file(name), help="the facts table to read"
    )
    parser.add_argument(
        "--variant",
        choices=known or None,
        help=f"only the variant {name}-VARIANT, from {name}_facts_VARIANT.yaml",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the files that differ from a fresh regeneration",
    )
    args = parser.parse_args(argv)
    # --out names one folder: the table's own task, or the one --variant names
    targets = [args.variant] if args.variant else [None] if args.out else [None, *known]
    try:
        base = load_table(args.facts)
        built = []
        for variant in targets:
            table = base if variant is None else load_variant(base, variant_file(name, variant))
            out = args.out or default_out(name if variant is None else f"{name}-{variant}")
            built.append((table, build(table), out))
    except TaskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    status = 0
    for table, files, out in built:
        if args.check:
            status = max(status, _check_folder(files, out, name))
        else:
            write(files, out)
            print(f"wrote {len(files)} files to {out}: {summary(table, files)}")
    return status


def _check_folder(files: dict[str, str], out: Path, name: str) -> int:
    problems = stale_files(files, out)
    if problems:
        print(
            f"{out} is stale; regenerate with python -m benchmarks.generators.{name}:",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{out} is up to date ({len(files)} files)")
    return 0


def generate_into(out: Path, facts: Path, variant: Path | None = None) -> dict[str, str]:
    """Build the task from `facts` (and a variant file) and write it under `out` (tests use a tmp dir)."""
    table = load_table(facts)
    files = build(load_variant(table, variant) if variant else table)
    write(files, out)
    return files


def run_as_script(name: str) -> None:
    """`python -m benchmarks.generators.<name>`: the generator bound to one table."""
    sys.exit(main(sys.argv[1:], name=name))
