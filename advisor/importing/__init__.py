"""`advisor tasks import`: the files a team already has, turned into a task folder.

    sources → records (`sources`) → examples or documents (`formats`)
            → task type (labels or free text) → train / test (`split`, or --test)
            → task.yaml, train.jsonl, test.jsonl, corpus/ in a temporary folder
            → validated like any task (`advisor.tasks.check_task`) → renamed into place

Nothing is written where the task goes until everything has been read and the
new folder validates; an existing folder is replaced only with `force`, and
then only once the new one is complete.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from advisor.fileio import make_parent, write_error
from advisor.importing.formats import (
    FORMATS,
    Converted,
    Example,
    ImportDataError,
    Options,
    detect_format,
    looks_like_labels,
    resolve_format,
)
from advisor.importing.sources import WITHHELD_PLACEHOLDERS, read_corpus, read_source
from advisor.importing.split import split_examples
from advisor.tasks import check_task, normalise_question

__all__ = ["FORMATS", "ImportDataError", "ImportRequest", "ImportReport", "import_task"]

DEFAULT_SYSTEM_PROMPTS = {
    "classification": "Classify the user's message.",
    "generation": "You are a helpful assistant. Answer the user's question.",
}


@dataclass(frozen=True)
class ImportRequest:
    sources: tuple[Path, ...]
    to: Path
    format: str | None = None
    test_file: Path | None = None
    corpus: Path | None = None
    task_type: str = "auto"  # auto | classification | generation
    test_size: float = 0.2
    seed: int = 0
    name: str | None = None
    domain: str = "imported data"
    system_prompt: str | None = None
    options: Options = field(default_factory=Options)
    force: bool = False
    allow_leakage: bool = False


@dataclass
class ImportReport:
    """What the import read and wrote, line by line, for the terminal."""

    lines: list[str] = field(default_factory=list)
    task_type: str = ""
    train: int = 0
    test: int = 0
    documents: int = 0
    labels: int = 0

    def say(self, line: str) -> None:
        self.lines.append(line)


def import_task(request: ImportRequest, report: ImportReport | None = None) -> ImportReport:
    """Read, split, write and validate; raise `ImportDataError` (nothing written) on bad input."""
    report = report or ImportReport()
    if not request.sources and request.corpus is None:
        raise ImportDataError("nothing to import", hint="name a data file, or --corpus DIR")
    if request.to.exists() and not request.force:
        raise ImportDataError(
            "already exists",
            file=request.to,
            hint="pass --force to replace it (only once the new task is complete)",
        )
    if not request.test_size > 0 and request.test_file is None:
        raise ImportDataError("must be above 0", field="--test-size")
    if request.test_size > 1 and request.test_size != int(request.test_size):
        raise ImportDataError(
            f"{request.test_size:g} is neither a share nor a count",
            field="--test-size",
            hint="a share below 1 (0.2 for 20%) or a whole number of test items (200)",
        )

    examples, documents, held_out, implied = [], [], None, None
    for path in request.sources:
        converted, test = _read(path, request, report)
        implied = implied or converted.task_type
        examples += converted.examples
        documents += converted.documents
        if test is not None:
            held_out = (held_out or []) + test.examples
            documents += test.documents  # SQuAD's validation passages: what its questions need
    if request.test_file is not None:
        given = _read(request.test_file, request, report, role="test")[0]
        _check_labeled(given.examples, request.test_file)
        held_out, documents = given.examples, documents + given.documents
    if request.corpus is not None:
        corpus = read_corpus(request.corpus)
        documents += corpus.documents
        report.say(f"corpus: {len(corpus.documents)} documents from {request.corpus}")
        for note in corpus.notes:
            report.say(f"  note: {note}")
    if not examples:
        raise ImportDataError(
            "no labeled examples to learn from or test on",
            file=request.sources[0] if request.sources else request.corpus,
            hint="a task needs question/answer or text/label examples; documents alone "
            "become a corpus only",
        )

    task_type = _task_type(request, examples, report, implied)
    system_prompt = _system_prompt(request, [*examples, *(held_out or [])], task_type, report)
    if held_out is None and request.test_size >= 1 and request.test_size >= len(examples):
        raise ImportDataError(
            f"asks for {int(request.test_size):,} test items of {len(examples):,} examples",
            field="--test-size",
            hint=f"a count below {len(examples):,}, or a share such as 0.2",
        )
    if held_out is None:
        split = split_examples(
            examples,
            test_size=request.test_size,
            seed=request.seed,
            stratify=task_type == "classification",
        )
        train, test = split.train, split.test
        if not test:
            raise ImportDataError(
                f"the split left no test examples: every {task_type} example is in a group "
                "kept whole on the training side (near-duplicates, or each label's last "
                "examples)",
                file=request.sources[0],
                hint="pass --test FILE, a larger --test-size, or --type generation if the "
                "answers are not labels",
            )
        how = "stratified by label, " if task_type == "classification" else ""
        report.say(
            f"split: seed {request.seed}, {how}test {_share(request.test_size)} → "
            f"train {len(train):,}, test {len(test):,}; near-duplicates kept on one side "
            + (
                f"({split.groups:,} groups of {split.grouped_examples:,} examples)"
                if split.groups
                else "(none found)"
            )
        )
    else:
        train, test = examples, held_out
        if not request.allow_leakage:
            test = _without_leakage(train, test, report)
        report.say(f"split: as given → train {len(train):,}, test {len(test):,}")
    _write(request, task_type, system_prompt, train, test, documents, report)
    return report


def _share(test_size: float) -> str:
    if test_size < 1:
        return f"{test_size:.0%}"
    return f"{int(test_size):,} item" + ("s" if test_size > 1 else "")


def _read(
    path: Path, request: ImportRequest, report: ImportReport, role: str = "data"
) -> tuple[Converted, Converted | None]:
    source = read_source(path)
    detected = detect_format(source.records[0][1])
    fmt = resolve_format(request.format) if request.format else detected
    try:
        converted = fmt.convert(source.records, request.options)
        test = fmt.convert(source.test, request.options) if source.test else None
    except ImportDataError as exc:
        if fmt is not detected:
            exc.hint = (
                f"{path.name} reads as {detected.title}: try --format {detected.name}, "
                "or leave --format out"
            )
        raise
    records = len(source.records) + len(source.test or ())
    read_as = f"read as: {fmt.title}, {source.kind}, {records:,} records"
    produced = " and ".join(
        f"{count:,} {what}"
        for count, what in (
            (len(converted.examples), "examples"),
            (len(converted.documents), "documents"),
        )
        if count
    )
    report.say(f"{path} ({role}): {read_as} → {produced}")
    if test is not None:
        report.say(
            f"  its '{source.test[0][0].file.rsplit('[', 1)[-1][:-1]}' split is the test set"
        )
    for note in [*source.notes, *converted.notes]:
        report.say(f"  {note}")
    return converted, test


# a given test file's placeholders: a split's, and the -1 / none of a table's label cells
WITHHELD_ANSWERS = {*WITHHELD_PLACEHOLDERS, "-1", "none", "null"}


def _check_labeled(examples: list[Example], path: Path) -> None:
    """A given test set must carry answers: public test splits often withhold them
    (GLUE's -1, TriviaQA's '<unk>', CommonsenseQA's empty answerKey)."""
    answers = {e.answer.strip().lower() for e in examples}
    if answers <= WITHHELD_ANSWERS:
        shown = f"every answer is '{next(iter(answers))}'" if answers else "no row has an answer"
        raise ImportDataError(
            f"has no answers to score against ({shown}: withheld, as public test sets do)",
            file=path,
            field="--test",
            hint="pass a labeled file as --test (a data set's validation split, often), or "
            "leave --test out to split the training data",
        )


LEAKAGE_DROPPED = 0.05  # a given test set may lose this share of repeats, with a note


def _without_leakage(train: list[Example], test: list[Example], report: ImportReport):
    """A given test set without the questions it repeats from training, when they are a
    few (real sets hold some: IMDB's duplicate reviews); refused when they are more, as
    the wrong file or a split that leaks. Named by the user's files: the task's own check
    would name train.jsonl and test.jsonl, which are not written yet."""
    seen: dict[str, Example] = {}
    for example in train:
        seen.setdefault(normalise_question(example.question), example)
    repeats = [(e, seen[key]) for e in test if (key := normalise_question(e.question)) in seen]
    if not repeats:
        return test
    item, first = repeats[0]
    if len(repeats) <= LEAKAGE_DROPPED * len(test):
        report.say(
            f"  note: {len(repeats):,} test item(s) that repeat a training question left out "
            f"(the first: {item.where.place}, as {first.where.place}); --allow-leakage "
            "keeps them"
        )
        dropped = {id(e) for e, _ in repeats}
        return [e for e in test if id(e) not in dropped]
    more = f" (and {len(repeats) - 1} more)" if len(repeats) > 1 else ""
    raise item.where.error(
        f"asks the same question as {first.where.place}{more}: leakage would inflate "
        "fine-tuning scores",
        "question",
        hint="remove the repeats from one side, or pass --allow-leakage to measure them anyway",
    )


def _task_type(
    request: ImportRequest, examples: list[Example], report: ImportReport, implied: str | None
) -> str:
    answers = [e.answer for e in examples]
    distinct = len(set(answers))
    if request.task_type != "auto":
        chosen = request.task_type
        report.say(f"type: {chosen} (as asked; {distinct:,} distinct answers)")
    elif implied == "generation" and request.options.label_col is None:
        chosen = "generation"
        report.say(
            f"type: generation (answers given as SQuAD- or TriviaQA-style records, free text "
            f"rather than labels: {distinct:,} distinct over {len(answers):,} examples; --type "
            "classification reads them as labels)"
        )
    elif request.options.label_col is not None or looks_like_labels(answers):
        chosen = "classification"
        report.say(
            f"type: classification ({distinct:,} distinct short answers over {len(answers):,} "
            "examples; --type generation keeps them as free text)"
        )
    else:
        chosen = "generation"
        report.say(
            f"type: generation ({distinct:,} distinct answers over {len(answers):,} examples)"
        )
    if chosen == "classification" and distinct < 2:
        raise ImportDataError(
            "a classification task needs at least two labels", hint="check the label column"
        )
    return chosen


def _system_prompt(
    request: ImportRequest, examples: list[Example], task_type: str, report: ImportReport
) -> str:
    if request.system_prompt:
        return request.system_prompt.strip()
    prompts = Counter(e.system for e in examples if e.system)
    if not prompts:
        return DEFAULT_SYSTEM_PROMPTS[task_type]
    prompt, count = prompts.most_common(1)[0]
    if len(prompts) > 1:
        report.say(
            f"  note: {len(prompts)} different system messages; the most common "
            f"({count:,} examples) becomes the task's system prompt"
        )
    return prompt


# ---------------------------------------------------------------- writing


def _write(
    request: ImportRequest,
    task_type: str,
    system_prompt: str,
    train: list[Example],
    test: list[Example],
    documents: list[tuple[str, str]],
    report: ImportReport,
) -> None:
    to = request.to
    staging = to.parent / f".{to.name}.importing-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    make_parent(to, what="task folder")
    try:
        staging.mkdir()
        labels = _files(request, task_type, system_prompt, train, test, documents, staging, report)
        _, problems = check_task(staging, allow_leakage=request.allow_leakage)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ImportDataError(
                f"the imported task does not validate: {first.message}{more}",
                field=first.field,
                hint=first.hint,
            )
        if to.exists():
            backup = to.parent / f".{to.name}.replaced-{os.getpid()}"
            to.rename(backup)
            staging.rename(to)
            shutil.rmtree(backup)
        else:
            staging.rename(to)
    except OSError as exc:  # a full disk, a read-only folder: nothing is left half-written
        raise write_error(exc, to, what="task folder") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    report.task_type, report.train, report.test = task_type, len(train), len(test)
    report.documents, report.labels = len(documents), len(labels)
    report.say(
        f"wrote {to}: {len(train):,} train, {len(test):,} test, {len(documents):,} documents"
    )


def _files(
    request: ImportRequest,
    task_type: str,
    system_prompt: str,
    train: list[Example],
    test: list[Example],
    documents: list[tuple[str, str]],
    folder: Path,
    report: ImportReport,
) -> list[str]:
    import json

    labels: list[str] = []
    if task_type == "classification":
        labels = sorted({e.answer for e in train} | {e.answer for e in test})
        only_test = sorted({e.answer for e in test} - {e.answer for e in train})
        if only_test:
            report.say(
                f"  note: {len(only_test)} label(s) only in the test set: {', '.join(only_test[:5])}"
            )
        untested = sorted({e.answer for e in train} - {e.answer for e in test})
        if untested:
            report.say(
                f"  note: {len(untested)} label(s) never tested: {', '.join(untested[:5])}"
                + (", ..." if len(untested) > 5 else "")
            )
    multi_turn = sum(1 for e in test if len(e.turns) > 2)
    if multi_turn:
        report.say(
            f"  note: {multi_turn} test conversation(s) have earlier turns; a test item asks "
            "its last question only"
        )
    finals = _final_answers(test) if task_type == "generation" else None
    if finals is not None:
        report.say(
            "  note: the answers end with '#### <final answer>' (GSM8K's worked solutions): "
            "each test item's fact is its final answer, scored by fact recall"
        )
    (folder / "task.yaml").write_text(
        _task_yaml(request, task_type, system_prompt, labels, bool(documents), finals is not None),
        encoding="utf-8",
    )
    with (folder / "train.jsonl").open("w", encoding="utf-8") as handle:
        for example in train:
            handle.write(json.dumps({"messages": list(example.turns)}, ensure_ascii=False) + "\n")
    taught = {normalise_question(e.answer) for e in train}
    with (folder / "test.jsonl").open("w", encoding="utf-8") as handle:
        for n, example in enumerate(test, start=1):
            row: dict[str, object] = {
                "id": f"item-{n:05d}",
                "question": example.question,
                "reference": example.answer,
            }
            if task_type == "generation":
                row["kind"] = "seen" if normalise_question(example.answer) in taught else "unseen"
                row["facts"] = [finals[n - 1]] if finals is not None else []
            row["source"] = str(example.where)
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if documents:
        corpus = folder / "corpus"
        for name, text in documents:
            path = corpus / (name.replace("/", "__").rsplit(".", 1)[0] + ".md")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.strip() + "\n", encoding="utf-8")
    return labels


FINAL_ANSWER = re.compile(r"\n\s*####\s*(\S[^\n]*)\s*$")  # GSM8K: "...\n#### 72"


def _final_answers(test: list[Example]) -> list[str] | None:
    """Each answer's final line after '####', when every answer has one (GSM8K)."""
    found = [FINAL_ANSWER.search(e.answer) for e in test]
    if not found or not all(found):
        return None
    return [m.group(1).strip().replace(",", "") for m in found if m is not None]


def _task_yaml(
    request: ImportRequest,
    task_type: str,
    system_prompt: str,
    labels: list[str],
    corpus: bool,
    facts: bool = False,
) -> str:
    name = request.name or request.to.name
    sources = ", ".join(p.name for p in request.sources) or "documents"
    spec: dict[str, object] = {
        "name": name,
        "version": 1,
        "type": task_type,
        "description": f"Imported by `advisor tasks import` from {sources}.",
        "domain": request.domain,
        "system_prompt": system_prompt,
    }
    if task_type == "classification":
        spec["labels"] = labels
    elif not facts:
        spec["score"] = "token_f1"
    if corpus:
        spec["corpus"] = "corpus"
    header = (
        "# Written by `advisor tasks import`. Edit freely: the system prompt, the domain, the\n"
        "# description. `advisor tasks validate` checks the folder and reports its statistics.\n"
    )
    if task_type == "generation" and not facts:
        header += (
            "# score: token_f1 — imported answers list no facts; add `facts` to test items and\n"
            "# set `score: facts` to score by fact recall.\n"
        )
    return header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
