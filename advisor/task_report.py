"""What `advisor tasks validate` reports about a task that loads: the statistics a
user needs before a run.

Items per split and kind, label balance, token lengths of what the model reads
and writes against its context and the limits a run will take from the task,
repeated questions, and test questions that nearly repeat a training question
(near-duplicate leakage: TF-IDF cosine, and MiniLM cosine when an embedder is
given), each pair named by its lines.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from advisor.tasks import Task, normalise_question

TFIDF_LEAK = 0.85  # the split groups at the same cosine (advisor.importing.split)
EMBEDDING_LEAK = 0.95


@dataclass(frozen=True)
class Pair:
    """Two lines whose questions (nearly) repeat each other."""

    first: str  # "train.jsonl:12"
    second: str
    similarity: float
    method: str  # "same text", "TF-IDF", "MiniLM"
    note: str = ""


@dataclass
class TaskStatistics:
    counts: dict[str, int] = field(default_factory=dict)  # "train", "test: seen", ...
    labels: list[tuple[str, int, int]] = field(default_factory=list)  # (label, train, test)
    lengths: dict[str, dict[str, int]] = field(default_factory=dict)  # what → p50/p95/max
    context: int | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    duplicates: list[Pair] = field(default_factory=list)
    leaks: list[Pair] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    corpus_words: int = 0


def task_statistics(
    task: Task,
    *,
    tokenizer: Any = None,
    context: int | None = None,
    config: Any = None,
    embedder: Any = None,
) -> TaskStatistics:
    stats = TaskStatistics()
    stats.counts["corpus documents"] = len(task.corpus)
    if task.corpus_v2 is not None:
        stats.counts["corpus after drift"] = len(task.corpus_v2)
    stats.corpus_words = sum(len(d.text.split()) for d in task.corpus)
    stats.counts["train examples"] = len(task.train)
    for kind, n in sorted(Counter(item.kind for item in task.test).items()):
        stats.counts[f"test: {kind}"] = n
    if task.spec.is_classification:
        _labels(task, stats)
    if tokenizer is not None:
        _lengths(task, tokenizer, context, config, stats)
    _duplicates(task, stats)
    _leaks(task, embedder, stats)
    if not task.corpus:
        needs = "cpt" if task.spec.is_classification else "rag, cpt and sft+rag"
        stats.warnings.append(f"no corpus: {needs} will be skipped")
    if not task.train:
        stats.warnings.append("no train examples: fewshot, sft and the classifiers will be skipped")
    return stats


def _labels(task: Task, stats: TaskStatistics) -> None:
    train = Counter(e.answer.strip() for e in task.train)
    test = Counter(i.reference for i in task.test)
    stats.labels = [(label, train[label], test[label]) for label in task.labels]
    untrained = [label for label, n, _ in stats.labels if n == 0]
    untested = [label for label, _, n in stats.labels if n == 0]
    if untrained:
        stats.warnings.append(
            f"{len(untrained)} label(s) have no train example: {', '.join(untrained[:5])}"
        )
    if untested:
        stats.warnings.append(
            f"{len(untested)} label(s) are never tested: {', '.join(untested[:5])}"
        )
    counts = [n for _, n, _ in stats.labels if n]
    if counts and max(counts) >= 10 * min(counts):
        stats.warnings.append(
            f"unbalanced labels: {min(counts)} to {max(counts)} train examples per label "
            "(macro-F1 weighs every label alike)"
        )


def _lengths(
    task: Task, tokenizer: Any, context: int | None, config: Any, stats: TaskStatistics
) -> None:
    from benchmarks.limits import answer_tokens, measure_lengths, percentiles

    lengths = measure_lengths(task, tokenizer)
    for what, values in (
        ("train prompt + answer", lengths.train_total),
        ("train answer", lengths.train_answer),
        ("test prompt", lengths.test_prompt),
    ):
        found = percentiles(values)
        if found:
            stats.lengths[what] = found
    stats.context = context
    if config is not None:
        stats.limits["answer tokens (generation.max_new_tokens)"] = answer_tokens(
            config, lengths if task.train else None
        )
        stats.limits["SFT sequence (sft.max_length)"] = config.sft.max_length or context
    longest = max([*lengths.train_total, *lengths.test_prompt], default=0)
    if context and longest > context:
        stats.warnings.append(
            f"the longest prompt + answer has {longest} tokens, beyond the model's {context}"
        )


def _where(file: str, line: int) -> str:
    return f"{file}:{line}"


def _duplicates(task: Task, stats: TaskStatistics) -> None:
    groups: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for example in task.train:
        groups[normalise_question(example.question)].append(
            ("train.jsonl", example.line, example.answer.strip())
        )
    for item in task.test:
        groups[normalise_question(item.question)].append(("test.jsonl", item.line, item.reference))
    for members in groups.values():
        for (file_a, line_a, answer_a), (file_b, line_b, answer_b) in zip(
            members, members[1:], strict=False
        ):
            if file_a != file_b:
                continue  # across the split it is leakage, reported by the loader
            conflict = task.spec.is_classification and answer_a != answer_b
            stats.duplicates.append(
                Pair(
                    _where(file_a, line_a),
                    _where(file_b, line_b),
                    1.0,
                    "same text",
                    "different labels" if conflict else "",
                )
            )


def _leaks(task: Task, embedder: Any, stats: TaskStatistics) -> None:
    from advisor.importing.split import near_duplicate_pairs

    if not task.train or not task.test:
        return
    test_questions = [i.question for i in task.test]
    train_questions = [e.question for e in task.train]
    found: dict[tuple[int, int], Pair] = {}
    for i, j, cosine in near_duplicate_pairs(test_questions, train_questions, threshold=TFIDF_LEAK):
        found[(i, j)] = Pair(
            _where("test.jsonl", task.test[i].line),
            _where("train.jsonl", task.train[j].line),
            cosine,
            "TF-IDF",
        )
    if embedder is not None:
        import numpy as np

        from strategies.retrieval import embed_texts

        a = embed_texts(embedder, test_questions)
        b = embed_texts(embedder, train_questions)
        for start in range(0, len(a), 512):
            block = a[start : start + 512] @ b.T
            for r, j in zip(*np.nonzero(block >= EMBEDDING_LEAK), strict=True):
                i = start + int(r)
                found.setdefault(
                    (i, int(j)),
                    Pair(
                        _where("test.jsonl", task.test[i].line),
                        _where("train.jsonl", task.train[int(j)].line),
                        float(block[r, j]),
                        "MiniLM",
                    ),
                )
    stats.leaks = sorted(found.values(), key=lambda p: -p.similarity)
    if stats.leaks:
        stats.warnings.append(
            f"{len(stats.leaks)} test question(s) nearly repeat a train question: fine-tuning "
            "scores on them measure memory"
        )
