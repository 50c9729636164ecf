"""`cpt`: continued pre-training — LoRA on the raw corpus text, then answering without retrieval.

What the knowledge-injection literature calls fine-tuning on documents: the
model reads the task's documents with a plain language-modelling loss (every
token predicts the next) and is then asked the test questions in the task's
conversation format, with no passages in the prompt. Whatever it answers right
came from the weights.

It trains on the corpus as it was at training time (`task.corpus`, v1), never
the drifted `corpus_v2`: the drift happened after training, which is exactly
what the `drift` items measure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from strategies.prompting import answers_from, chat, generate_answers
from strategies.protocol import Answer, Needs, PrepareReport, StrategyContext
from strategies.training import (
    corpus_examples,
    examples_digest,
    fingerprint,
    lora_adapter,
    train_batch_size,
)


class CptStrategy:
    """LoRA on the corpus text (LM loss on every token); answers from the weights."""

    name = "cpt"
    needs = Needs(corpus=True)

    def __init__(self) -> None:
        self._ctx: StrategyContext | None = None

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        self._ctx = ctx
        config = ctx.config.cpt
        tokenizer = ctx.models.tokenizer()
        examples = corpus_examples(tokenizer, ctx.task.corpus, config.max_length)
        key = "cpt-adapter:" + fingerprint(
            kind="cpt",
            config=dataclasses.asdict(config),
            batch_size=train_batch_size(config.batch_size, ctx.device),
            seed=ctx.seed,
            model=ctx.models.generator_spec,
            dtype=ctx.device.dtype,
            data=examples_digest(examples),
        )
        details = {"documents": len(ctx.task.corpus), "windows": len(examples)}
        self.model, self.tokenizer, report = lora_adapter(
            ctx, examples, config, key=key, phase="cpt", details=details
        )
        return report

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        if self._ctx is None:
            raise RuntimeError(f"{self.name}: answer() called before prepare()")
        conversations = [chat(self._ctx.task, question) for question in questions]
        return answers_from(generate_answers(self._ctx, self.model, self.tokenizer, conversations))
