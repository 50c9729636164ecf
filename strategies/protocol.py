"""The one small interface every adaptation strategy satisfies.

A strategy prepares itself on a task (builds an index, trains an adapter) and
then answers batches of questions. It is a `Protocol`, not a base class: shared
behaviour lives in free functions (`strategies.generation`, `strategies.retrieval`,
`strategies.training`), so each strategy reads top to bottom on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from advisor.config import RunConfig
    from advisor.models import ModelProvider
    from advisor.runtime import DeviceInfo
    from advisor.tasks import Task


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of the corpus: what a RAG answer can cite."""

    doc_id: str
    chunk_id: int
    text: str
    score: float


@dataclass
class Answer:
    """One answer and what producing it cost.

    `scoring` says how it was produced: `generate` (free text, greedy), or on a
    classification task `constrained` (greedy decoding that may only write an
    allowed label), `likelihood` (the allowed label the model finds most likely
    after the prompt) or `classifier` (a label predicted by a classifier that
    is not a language model).
    """

    text: str
    prompt_tokens: int
    output_tokens: int
    latency_s: float
    passages: tuple[Passage, ...] = ()
    scoring: str = "generate"


TASK_TYPES = ("generation", "classification")


@dataclass(frozen=True)
class Needs:
    """What a strategy needs from a task, declared so the harness can check it
    before the strategy starts and skip it with the reason instead of failing.

    `retrieval`: something to retrieve from — corpus passages, or on a
    classification task labeled examples (kNN few-shot) when there is no corpus.
    `learns_labels`: the strategy is trained on the task's answers, so on a
    classification task it answers by generating its label rather than by
    having every allowed label scored.
    """

    task_types: tuple[str, ...] = TASK_TYPES
    generator: bool = True
    corpus: bool = False
    examples: bool = False
    retrieval: bool = False
    learns_labels: bool = False


def unmet_need(needs: Needs, task: Task) -> str | None:
    """Why a strategy with these needs cannot run on `task` (None: it can)."""
    if task.spec.type not in needs.task_types:
        return f"serves {' and '.join(needs.task_types)} tasks; this one is {task.spec.type}"
    if needs.corpus and not task.corpus:
        return "needs a corpus of documents (corpus/ is empty or absent)"
    if needs.examples and not task.train:
        return "needs labeled examples (train.jsonl has none)"
    if needs.retrieval and not task.current_corpus:
        if not task.spec.is_classification:
            return "needs a corpus to retrieve from (corpus/ is empty or absent)"
        if not task.train:
            return "needs a corpus or labeled examples to retrieve from"
    return None


@dataclass
class PrepareReport:
    """What preparing cost, and anything worth recording about it."""

    train_time_s: float = 0.0
    train_tokens: int = 0
    peak_memory_mb: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class SharedModel:
    """A model one strategy trained, kept in `ctx.shared` for the strategies that
    answer with it too (`sft+rag` with the `sft` adapter, `full_ft+rag` with the
    `full_ft` weights).

    A LoRA entry keeps only the adapter's weights (`adapter`, a few MB), attached
    to a fresh copy of the base model when reused, so no merged copy of the
    whole generator waits in memory while other strategies run; a full
    fine-tune keeps the model itself (`model`). The harness drops an entry once
    no later unit of the run reuses the unit that trained it.
    """

    tokenizer: Any
    report: PrepareReport
    model: Any = None
    adapter: dict[str, Any] | None = None


ProgressCallback = Callable[[int, dict[str, Any]], None]
"""`advance(n, fields)`: n units done; fields (e.g. loss, tok/s) to show."""


@dataclass
class StrategyContext:
    """Everything a strategy may use while preparing and answering.

    `models` loads the base generator and embedder (cached in memory and on disk);
    `workdir` is this strategy's folder inside the run folder (adapters, logs);
    `shared` holds artefacts strategies of one run share, keyed by a description
    of what produced them (e.g. the SFT adapter that `sft+rag` reuses);
    `start_phase(description, total)` opens a progress bar and returns its
    `advance` callback.
    """

    task: Task
    config: RunConfig
    models: ModelProvider
    device: DeviceInfo
    seed: int
    workdir: Path
    shared: dict[str, Any] = field(default_factory=dict)
    start_phase: Callable[[str, int | None], ProgressCallback] = lambda description, total: (
        lambda n, fields: None
    )


@runtime_checkable
class Strategy(Protocol):
    """An adaptation strategy.

    `prepare` is called once per task and seed, before any `answer`.
    `answer` takes a batch of questions and returns one `Answer` per question,
    in order; it must be deterministic for a given preparation. `needs` says
    what the task must offer (`Needs()` when a strategy leaves it out).
    """

    name: str
    needs: Needs

    def prepare(self, ctx: StrategyContext) -> PrepareReport: ...

    def answer(self, questions: Sequence[str]) -> list[Answer]: ...
