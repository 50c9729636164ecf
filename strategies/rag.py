"""`rag`: retrieval-augmented generation with the frozen base model.

The top-k corpus chunks for each question go into the system message; the
answer carries them as citations, so the harness can report retrieval recall@k
and a reader can check where a figure came from.
"""

from __future__ import annotations

from collections.abc import Sequence

from strategies.prompting import answers_from, chat, generate_answers
from strategies.protocol import Answer, PrepareReport, StrategyContext
from strategies.retrieval import build_retriever


class RagStrategy:
    """Top-k passages (FAISS over MiniLM embeddings) in the prompt, with citations."""

    name = "rag"

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        import time

        self.ctx = ctx
        self.model, self.tokenizer = ctx.models.generator()
        began = time.perf_counter()
        self.retriever = build_retriever(ctx)
        return PrepareReport(
            details={
                "chunks": len(self.retriever.chunks),
                "chunking": ctx.config.rag.chunking,
                "top_k": ctx.config.rag.top_k,
                "index_time_s": round(time.perf_counter() - began, 3),
            }
        )

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        passages = self.retriever.search(questions, self.ctx.config.rag.top_k)
        conversations = [
            chat(self.ctx.task, q, context_passages=p)
            for q, p in zip(questions, passages, strict=True)
        ]
        return answers_from(
            generate_answers(self.ctx, self.model, self.tokenizer, conversations), passages
        )
