"""Retrieval: corpus chunking, embeddings (cached by content hash), a FAISS index.

Small chunks matter most on a 135M model (DESIGN.md's probe: sentence chunks,
top-3, beat whole documents by a wide margin), so the default chunk is one
sentence. Each chunk is embedded together with its document's title, which
carries the topic a bare sentence may leave implicit; the model sees only the
sentence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.fileio import atomic_writer
from advisor.tasks import Document
from strategies.protocol import Passage, StrategyContext

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_MARKDOWN_PREFIX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    chunk_id: int
    title: str
    text: str

    @property
    def embed_text(self) -> str:
        return f"{self.title}: {self.text}" if self.title else self.text


def _body_lines(document: Document) -> list[str]:
    """The document's text without its `# Title` line, markdown bullets stripped."""
    lines = document.text.splitlines()
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
    return [_MARKDOWN_PREFIX.sub("", line) for line in lines]


def split_paragraphs(document: Document) -> list[str]:
    text = "\n".join(_body_lines(document))
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(
            line.strip() for line in block.splitlines() if not line.strip().startswith("#")
        )
        if block.strip():
            paragraphs.append(block.strip())
    return paragraphs


def split_sentences(document: Document) -> list[str]:
    sentences = []
    for paragraph in split_paragraphs(document):
        sentences.extend(s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip())
    return sentences


def chunk_documents(
    documents: Sequence[Document], mode: str = "sentence", size: int = 1
) -> list[Chunk]:
    """Chunks of `size` consecutive sentences (or paragraphs), or whole documents."""
    chunks = []
    for document in documents:
        if mode == "document":
            pieces = [" ".join(split_paragraphs(document))]
        else:
            units = split_sentences(document) if mode == "sentence" else split_paragraphs(document)
            pieces = [" ".join(units[i : i + size]) for i in range(0, len(units), size)]
        for number, piece in enumerate(p for p in pieces if p):
            chunks.append(Chunk(document.doc_id, number, document.title, piece))
    return chunks


def embed_texts(embedder: Any, texts: Sequence[str], cache_key: str | None = None) -> np.ndarray:
    """Normalised float32 embeddings; cached on disk when `cache_key` names the embedder."""
    from advisor.models import cache_dir

    path = None
    if cache_key is not None:
        digest = hashlib.sha256(cache_key.encode())
        for text in texts:
            digest.update(text.encode() + b"\0")
        path = cache_dir() / "embeddings" / f"{digest.hexdigest()[:32]}.npy"
        if path.is_file():
            return np.load(path)
    vectors = np.asarray(
        embedder.encode(
            list(texts), normalize_embeddings=True, batch_size=64, show_progress_bar=False
        ),
        dtype=np.float32,
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(path, binary=True) as handle:
            np.save(handle, vectors)
    return vectors


class Retriever:
    """Top-k chunks by cosine similarity (inner product of normalised vectors)."""

    def __init__(
        self, chunks: Sequence[Chunk], embedder: Any, cache_key: str | None = None
    ) -> None:
        import faiss

        self.chunks = list(chunks)
        self.embedder = embedder
        vectors = embed_texts(embedder, [c.embed_text for c in self.chunks], cache_key)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def search(self, questions: Sequence[str], k: int) -> list[list[Passage]]:
        if not questions:
            return []
        queries = embed_texts(self.embedder, list(questions))
        scores, ids = self.index.search(queries, min(k, len(self.chunks)))
        results = []
        for row_scores, row_ids in zip(scores, ids, strict=True):
            results.append(
                [
                    Passage(
                        self.chunks[i].doc_id,
                        self.chunks[i].chunk_id,
                        self.chunks[i].text,
                        float(s),
                    )
                    for s, i in zip(row_scores, row_ids, strict=True)
                    if i >= 0
                ]
            )
        return results


def build_retriever(ctx: StrategyContext) -> Retriever:
    """The retriever over the task's current corpus (v2 when the task has drift),
    shared by every strategy of the run that retrieves."""
    settings = ctx.config.rag
    corpus = ctx.task.current_corpus
    key = ("retriever", corpus_hash(corpus), settings.chunking, settings.chunk_size)
    if key not in ctx.shared:
        chunks = chunk_documents(corpus, settings.chunking, settings.chunk_size)
        ctx.shared[key] = Retriever(chunks, ctx.models.embedder(), _cache_key(ctx))
    return ctx.shared[key]


def _cache_key(ctx: StrategyContext) -> str | None:
    """Names the embedder's weights for the embedding cache (None: do not cache)."""
    embedder_spec = getattr(ctx.models, "embedder_spec", None)
    if embedder_spec in (None, "<in-memory>"):
        return None
    return f"{embedder_spec}:{_embedder_id(ctx)}"


def retrieval_source(ctx: StrategyContext) -> str:
    """What `rag` and `sft+rag` retrieve: corpus passages, or labeled examples.

    `rag.source: auto` reads the corpus, except on a classification task with
    labeled examples: there the examples most like the question (kNN few-shot)
    tell a router more than help articles do, and a label task may have no
    corpus at all.
    """
    source = ctx.config.rag.source
    if source == "auto":
        classification = ctx.task.spec.is_classification and bool(ctx.task.train)
        return "examples" if classification or not ctx.task.current_corpus else "corpus"
    return source


def build_example_retriever(ctx: StrategyContext) -> Retriever:
    """A retriever over the train examples' questions; a passage's `chunk_id` is
    the example's index in train.jsonl and its `doc_id` names the line."""
    train = ctx.task.train
    digest = hashlib.sha256("\0".join(e.question for e in train).encode()).hexdigest()
    key = ("example-retriever", digest)
    if key not in ctx.shared:
        chunks = [Chunk(f"train.jsonl:{e.line}", i, "", e.question) for i, e in enumerate(train)]
        ctx.shared[key] = Retriever(chunks, ctx.models.embedder(), _cache_key(ctx))
    return ctx.shared[key]


class Grounding:
    """The conversations `rag` and `sft+rag` ask: each question with what was
    retrieved for it — corpus passages before the question, or the most similar
    labeled examples (as earlier turns; on a classification task as one compact
    list of message → label) — and the passages as citations."""

    def __init__(self, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.source = retrieval_source(ctx)
        if self.source == "examples":
            self.retriever = build_example_retriever(ctx)
            self.k = ctx.config.rag.example_k
        else:
            self.retriever = build_retriever(ctx)
            self.k = ctx.config.rag.top_k

    def conversations(
        self, questions: Sequence[str]
    ) -> tuple[list[list[dict[str, str]]], list[list[Passage]]]:
        from strategies.prompting import chat, fewshot_chat, labeled_examples_turn

        found = self.retriever.search(list(questions), self.k)
        task = self.ctx.task
        if self.source == "examples" and task.spec.is_classification:
            conversations = [
                chat(task, labeled_examples_turn([task.train[p.chunk_id] for p in hits], q))
                for q, hits in zip(questions, found, strict=True)
            ]
        elif self.source == "examples":
            conversations = [
                fewshot_chat(task, [task.train[p.chunk_id] for p in reversed(hits)], q)
                for q, hits in zip(questions, found, strict=True)
            ]
        else:
            conversations = [
                chat(self.ctx.task, q, context_passages=hits)
                for q, hits in zip(questions, found, strict=True)
            ]
        return conversations, found

    def details(self) -> dict[str, object]:
        return {"source": self.source, "chunks": len(self.retriever.chunks), "top_k": self.k}


def corpus_hash(documents: Sequence[Document]) -> str:
    """Identifies a corpus by content: v1 and v2 of a task are different corpora."""
    digest = hashlib.sha256()
    for document in documents:
        digest.update(f"{document.doc_id}\0{document.text}\0".encode())
    return digest.hexdigest()


def _embedder_id(ctx: StrategyContext) -> str:
    """Identify the embedder's weights so a changed model never reuses old vectors."""
    from advisor.models import folder_sha256, resolve_embedder

    return folder_sha256(resolve_embedder(ctx.models.embedder_spec))[:16]
