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
    """One generated answer and what producing it cost."""

    text: str
    prompt_tokens: int
    output_tokens: int
    latency_s: float
    passages: tuple[Passage, ...] = ()


@dataclass
class PrepareReport:
    """What preparing cost, and anything worth recording about it."""

    train_time_s: float = 0.0
    train_tokens: int = 0
    peak_memory_mb: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


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
    in order; it must be deterministic for a given preparation.
    """

    name: str

    def prepare(self, ctx: StrategyContext) -> PrepareReport: ...

    def answer(self, questions: Sequence[str]) -> list[Answer]: ...
