"""`full_ft` and `full_ft+rag`: every weight of the generator fine-tuned on train.jsonl.

The same training as `sft` — the same examples (`strategies.sft.training_examples`:
questions, rendered prompts, optional passages, loss on the answer and its end
token only), the same length-grouped batches, AdamW with warm-up and cosine
decay, bf16 autocast where the device computes in bf16 — with one difference:
no adapter, every parameter trains. Set beside `sft` it measures what LoRA
gives up, and what it saves: train time, memory (gradients and AdamW state for
every weight, about four copies of the model) and disk (a whole checkpoint per
version instead of an adapter).

`full_ft+rag` answers with retrieved passages, reusing the weights `full_ft`
trained in the same run (in `ctx.shared`, or saved in the run folder), as
`sft+rag` reuses the `sft` adapter. With `rag.train_with_context` it trains its
own copy on questions that all carry their passages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from strategies.prompting import answers_from, chat, for_label_learners, generate_answers
from strategies.protocol import Answer, Needs, PrepareReport, StrategyContext
from strategies.sft import training_examples
from strategies.training import examples_digest, fingerprint, full_weights, train_batch_size


def full_ft_model(
    ctx: StrategyContext, *, train_limit: int | None = None, with_context: bool = False
) -> tuple[Any, Any, PrepareReport]:
    """The fully fine-tuned generator for this run's config, data and seed."""
    config = ctx.config.full_ft
    examples, details = training_examples(
        ctx, "full_ft", train_limit=train_limit, with_context=with_context
    )
    key = "full-ft:" + fingerprint(
        kind="full_ft",
        config=dataclasses.asdict(config),
        batch_size=train_batch_size(config.batch_size, ctx.device),
        with_context=with_context,
        top_k=ctx.config.rag.top_k if with_context or config.context_share > 0 else None,
        seed=ctx.seed,
        model=ctx.models.generator_spec,
        dtype=ctx.device.dtype,
        data=examples_digest(examples),
    )
    return full_weights(ctx, examples, config, key=key, phase="full_ft", details=details)


class FullFtStrategy:
    """Full fine-tuning on train.jsonl; answers from what the weights learned."""

    name = "full_ft"
    needs = Needs(examples=True, learns_labels=True)

    def __init__(self, train_limit: int | None = None) -> None:
        self.train_limit = train_limit
        self._ctx: StrategyContext | None = None

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        ctx = dataclasses.replace(ctx, task=for_label_learners(ctx.task))
        self._ctx = ctx
        self.model, self.tokenizer, report = full_ft_model(ctx, train_limit=self.train_limit)
        return report

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        if self._ctx is None:
            raise RuntimeError(f"{self.name}: answer() called before prepare()")
        ctx = self._ctx
        conversations = [chat(ctx.task, question) for question in questions]
        return answers_from(
            generate_answers(ctx, self.model, self.tokenizer, conversations, learns_labels=True)
        )


class FullFtRagStrategy:
    """The fully fine-tuned model answering with retrieved passages (and citing them)."""

    name = "full_ft+rag"
    needs = Needs(examples=True, retrieval=True, learns_labels=True)

    def __init__(self, train_limit: int | None = None) -> None:
        self.train_limit = train_limit
        self._ctx: StrategyContext | None = None

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        from strategies.retrieval import Grounding

        ctx = dataclasses.replace(ctx, task=for_label_learners(ctx.task))
        self._ctx = ctx
        with_context = bool(getattr(ctx.config.rag, "train_with_context", False))
        self.model, self.tokenizer, report = full_ft_model(
            ctx, train_limit=self.train_limit, with_context=with_context
        )
        self.grounding = Grounding(ctx)
        return report

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        if self._ctx is None:
            raise RuntimeError(f"{self.name}: answer() called before prepare()")
        ctx = self._ctx
        conversations, passages = self.grounding.conversations(questions)
        generations = generate_answers(
            ctx, self.model, self.tokenizer, conversations, learns_labels=True
        )
        return answers_from(generations, passages)
