"""Chunking and retrieval: the retriever finds the passage planted for a question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.tasks import Document
from strategies.retrieval import Retriever, chunk_documents, embed_texts, split_sentences
from tiny import HashEmbedder

DOC = Document(
    "fees.md",
    "Fees",
    "# Fees\n\nA SINPE transfer costs Q5.00 for amounts up to Q5,000.00. Branches open at 9:00 am.\n\n"
    "- The replacement card fee is Q35.00.\n- Statements are free.\n",
)


def test_sentences_keep_decimal_amounts_whole_and_drop_the_title() -> None:
    assert split_sentences(DOC) == [
        "A SINPE transfer costs Q5.00 for amounts up to Q5,000.00.",
        "Branches open at 9:00 am.",
        "The replacement card fee is Q35.00.",
        "Statements are free.",
    ]


@pytest.mark.parametrize(
    ("mode", "size", "count"),
    [("sentence", 1, 4), ("sentence", 2, 2), ("paragraph", 1, 2), ("document", 1, 1)],
)
def test_chunk_modes(mode: str, size: int, count: int) -> None:
    chunks = chunk_documents([DOC], mode, size)
    assert len(chunks) == count
    assert all(c.doc_id == "fees.md" and c.title == "Fees" for c in chunks)
    assert [c.chunk_id for c in chunks] == list(range(count))


def test_retriever_finds_the_planted_passage() -> None:
    filler = [
        Document(
            f"filler-{i}.md",
            f"Topic {i}",
            f"# Topic {i}\n\nThe office number {i} handles general enquiries about topic {i}.",
        )
        for i in range(30)
    ]
    planted = Document(
        "secret.md",
        "Vault",
        "# Vault\n\nThe vault combination is kept by the night manager Esperanza.",
    )
    retriever = Retriever(chunk_documents([*filler, planted, DOC]), HashEmbedder())
    results = retriever.search(
        ["Who keeps the vault combination?", "How much is the replacement card fee?"], k=3
    )
    assert results[0][0].doc_id == "secret.md"
    assert "Q35.00" in results[1][0].text
    assert all(len(r) == 3 for r in results)
    assert results[0][0].score >= results[0][1].score >= results[0][2].score


def test_embeddings_are_cached_by_content(tmp_path: Path) -> None:
    class CountingEmbedder(HashEmbedder):
        calls = 0

        def encode(self, texts, **kwargs):
            CountingEmbedder.calls += 1
            return super().encode(texts, **kwargs)

    embedder = CountingEmbedder()
    first = embed_texts(embedder, ["a b", "c d"], cache_key="hash-embedder")
    second = embed_texts(embedder, ["a b", "c d"], cache_key="hash-embedder")
    assert CountingEmbedder.calls == 1
    np.testing.assert_array_equal(first, second)
    embed_texts(embedder, ["a b", "c e"], cache_key="hash-embedder")
    assert CountingEmbedder.calls == 2
