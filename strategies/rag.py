"""`rag`: retrieval-augmented generation with the frozen base model.

The top-k corpus chunks for each question go into the prompt, just before the
question; the answer carries them as citations, so the harness can report
retrieval recall@k and a reader can check where a figure came from. On a
classification task the retriever reads the labeled examples instead and puts
the most similar ones in the prompt as earlier turns (kNN few-shot; see
`strategies.retrieval.retrieval_source`).
"""

from __future__ import annotations

from collections.abc import Sequence

from strategies.prompting import answers_from, generate_answers
from strategies.protocol import Answer, Needs, PrepareReport, StrategyContext
from strategies.retrieval import Grounding


class RagStrategy:
    """Top-k passages (FAISS over MiniLM embeddings) in the prompt, with citations."""

    name = "rag"
    needs = Needs(retrieval=True)

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        import time

        self.ctx = ctx
        self.model, self.tokenizer = ctx.models.generator()
        began = time.perf_counter()
        self.grounding = Grounding(ctx)
        return PrepareReport(
            details={
                **self.grounding.details(),
                "chunking": ctx.config.rag.chunking,
                "index_time_s": round(time.perf_counter() - began, 3),
            }
        )

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        conversations, passages = self.grounding.conversations(questions)
        return answers_from(
            generate_answers(self.ctx, self.model, self.tokenizer, conversations), passages
        )
