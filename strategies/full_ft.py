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

from typing import Any

from strategies.protocol import PrepareReport, StrategyContext
from strategies.sft import (
    SftRagStrategy,
    SftStrategy,
    training_examples,
    training_fingerprint,
)
from strategies.training import full_weights


def full_ft_model(
    ctx: StrategyContext, *, train_limit: int | None = None, with_context: bool = False
) -> tuple[Any, Any, PrepareReport]:
    """The fully fine-tuned generator for this run's config, data and seed."""
    config = ctx.config.full_ft
    examples, details = training_examples(
        ctx, "full_ft", train_limit=train_limit, with_context=with_context
    )
    key = "full-ft:" + training_fingerprint(ctx, "full_ft", config, examples, with_context)
    return full_weights(ctx, examples, config, key=key, phase="full_ft", details=details)


class FullFtStrategy(SftStrategy):
    """Full fine-tuning on train.jsonl; answers from what the weights learned."""

    name = "full_ft"
    trained = staticmethod(full_ft_model)


class FullFtRagStrategy(SftRagStrategy):
    """The fully fine-tuned model answering with retrieved passages (and citing them)."""

    name = "full_ft+rag"
    trained = staticmethod(full_ft_model)
