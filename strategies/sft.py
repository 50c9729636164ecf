"""`sft` and `sft+rag`: LoRA fine-tuning on train.jsonl, answering without or with retrieval.

`sft` teaches the model the task's answers in the task's conversation format
(system message + user question → assistant answer, loss on the answer and its
end token only) and answers the test questions the same way.

`sft+rag` answers with retrieved passages before the question, as `rag` does.
By default it reuses the adapter `sft` trained in the same run (found in
`ctx.shared` under the fingerprint of config, data and seed, or saved in the run
folder; trained here when absent).

Two ways to teach the adapter to read context (RAFT-style):
- `sft.context_share` (e.g. 0.5): that share of the training questions, chosen
  with the seed, carries the passages retrieved for it; the rest are asked bare.
  One adapter then serves both `sft` (no context) and `sft+rag` — the mix RAFT
  trains with, at the cost of one training run.
- `rag.train_with_context`: `sft+rag` trains its own adapter on which every
  training question carries its passages (a second training run).
Passages come from the corpus as it was at training time (v1), never the
drifted one: training on v2 passages next to v1 answers would teach the model to
ignore its context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from advisor.errors import ConfigError
from strategies.prompting import answers_from, chat, for_label_learners, generate_answers
from strategies.protocol import Answer, Needs, PrepareReport, StrategyContext
from strategies.training import (
    Example,
    build_sft_examples,
    examples_digest,
    fingerprint,
    lora_adapter,
    select_examples,
    train_batch_size,
)


def sft_adapter(
    ctx: StrategyContext, *, train_limit: int | None = None, with_context: bool = False
) -> tuple[Any, Any, PrepareReport]:
    """The SFT adapter for this run's config, data and seed (see `lora_adapter`)."""
    config = ctx.config.sft
    examples, details = training_examples(
        ctx, "sft", train_limit=train_limit, with_context=with_context
    )
    key = "sft-adapter:" + training_fingerprint(ctx, "sft", config, examples, with_context)
    return lora_adapter(ctx, examples, config, key=key, phase="sft", details=details)


def training_fingerprint(
    ctx: StrategyContext, kind: str, config: Any, examples: Sequence[Any], with_context: bool
) -> str:
    """What a trained model depends on: its settings, the batch it trains with on this
    device, the passages it was shown, the seed, the model, the dtype and the data."""
    return fingerprint(
        kind=kind,
        config=dataclasses.asdict(config),
        batch_size=train_batch_size(config.batch_size, ctx.device),
        with_context=with_context,
        top_k=ctx.config.rag.top_k if with_context or config.context_share > 0 else None,
        seed=ctx.seed,
        model=ctx.models.generator_spec,
        dtype=ctx.device.dtype,
        data=examples_digest(examples),
    )


def training_examples(
    ctx: StrategyContext, section: str, *, train_limit: int | None, with_context: bool
) -> tuple[list[Example], dict[str, Any]]:
    """The SFT examples the `section` settings (`sft` or `full_ft`) ask for, and
    the facts about them a report records.

    One function for both, so LoRA and full fine-tuning train on the same
    questions, prompts, passages and loss mask: the comparison is of the method.
    """
    config = getattr(ctx.config, section)
    chosen = select_examples(ctx.task.train, train_limit, ctx.seed)
    tokenizer = ctx.models.tokenizer()
    contexts = _training_contexts(ctx, chosen, 1.0 if with_context else config.context_share)
    # 0: from the task — nothing is cut short of the model's context window
    max_length = config.max_length or ctx.models.context_length()
    examples, skipped = build_sft_examples(
        ctx.task, tokenizer, chosen, max_length, contexts=contexts
    )
    if not examples:
        raise ConfigError(
            f"no training example fits in {max_length} tokens (the prompt alone is longer)",
            field=f"{section}.max_length",
            hint=f"raise {section}.max_length, or set it to 0 to take the length from the task",
        )
    details = {
        "train_examples": len(chosen),
        "max_length": max_length,
        "longest_example": max(len(e) for e in examples),
        "skipped_too_long": skipped,
        "train_limit": train_limit,
        "with_context": with_context,
        "with_passages": sum(1 for c in contexts or () if c is not None),
    }
    return examples, details


def _training_contexts(
    ctx: StrategyContext, chosen: Sequence[Any], share: float
) -> list[list[Any] | None] | None:
    """Passages for a seeded `share` of the training questions (None for the rest),
    retrieved from the training-time corpus (v1); None when share is 0."""
    import random

    from strategies.retrieval import build_retriever, retrieval_source

    if share <= 0 or retrieval_source(ctx) != "corpus":
        return None
    rng = random.Random(f"context-share-{ctx.seed}")
    grounded = [i for i in range(len(chosen)) if share >= 1 or rng.random() < share]
    as_trained = dataclasses.replace(ctx, task=dataclasses.replace(ctx.task, corpus_v2=None))
    retriever = build_retriever(as_trained)
    found = retriever.search([chosen[i].question for i in grounded], ctx.config.rag.top_k)
    contexts: list[list[Any] | None] = [None] * len(chosen)
    for i, passages in zip(grounded, found, strict=True):
        contexts[i] = passages
    return contexts


class SftStrategy:
    """LoRA fine-tuning on train.jsonl; answers from what the adapter learned.

    `full_ft` subclasses it with another `trained` (every weight instead of an
    adapter); the answering is the same."""

    name = "sft"
    needs = Needs(examples=True, learns_labels=True)
    trained = staticmethod(
        sft_adapter
    )  # (ctx, train_limit=, with_context=) → model, tokenizer, report

    def __init__(self, train_limit: int | None = None) -> None:
        self.train_limit = train_limit
        self._ctx: StrategyContext | None = None

    def _train(self, ctx: StrategyContext, *, with_context: bool = False) -> PrepareReport:
        ctx = dataclasses.replace(ctx, task=for_label_learners(ctx.task))
        self._ctx = ctx
        self.model, self.tokenizer, report = self.trained(
            ctx, train_limit=self.train_limit, with_context=with_context
        )
        return report

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        return self._train(ctx)

    def _prepared(self) -> StrategyContext:
        if self._ctx is None:
            raise RuntimeError(f"{self.name}: answer() called before prepare()")
        return self._ctx

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        ctx = self._prepared()
        conversations = [chat(ctx.task, question) for question in questions]
        return answers_from(
            generate_answers(ctx, self.model, self.tokenizer, conversations, learns_labels=True)
        )


class SftRagStrategy(SftStrategy):
    """The SFT adapter answering with retrieved passages (and citing them)."""

    name = "sft+rag"
    needs = Needs(examples=True, retrieval=True, learns_labels=True)

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        from strategies.retrieval import Grounding

        with_context = bool(getattr(ctx.config.rag, "train_with_context", False))
        report = self._train(ctx, with_context=with_context)
        self.grounding = Grounding(self._prepared())
        return report

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        ctx = self._prepared()
        conversations, passages = self.grounding.conversations(questions)
        generations = generate_answers(
            ctx, self.model, self.tokenizer, conversations, learns_labels=True
        )
        return answers_from(generations, passages)
