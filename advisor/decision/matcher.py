"""Sentence similarity with the bundled MiniLM model, for when keywords fall short.

Free-text parsing and option classification try keywords first; a `TextMatcher`
is the optional fallback. `MiniLMMatcher` loads all-MiniLM-L6-v2 (through
`advisor.models.load_embedder`) on its first use only, so passing one costs
nothing when the keywords already decide. Embeddings of the fixed reference
sentences (approach descriptions, prototypes) are cached under
`cache_dir()/decision/`, keyed by a hash of the model folder and the texts.
Tests can pass any object with a `similarity` method instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

from advisor.fileio import atomic_writer


class TextMatcher(Protocol):
    def similarity(self, queries: Sequence[str], references: Sequence[str]) -> list[list[float]]:
        """Cosine similarity of each query to each reference sentence."""
        ...


class MiniLMMatcher:
    """A lazily loaded MiniLM embedder answering `similarity` (see `TextMatcher`)."""

    def __init__(self, spec: str = "minilm") -> None:
        self.spec = spec
        self._model: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        if self._model is None:
            from advisor.models import load_embedder

            self._model = load_embedder(self.spec)
        return self._model

    def _encode(self, texts: Sequence[str]) -> Any:
        return self._load().encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)

    def _encode_cached(self, texts: Sequence[str]) -> Any:
        import numpy as np

        from advisor.models import cache_dir, resolve_embedder

        key = hashlib.sha256(
            "\0".join([str(resolve_embedder(self.spec)), *texts]).encode()
        ).hexdigest()[:24]
        path = cache_dir() / "decision" / f"embeddings-{key}.npy"
        if path.is_file():
            return np.load(path)
        vectors = self._encode(texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(path, binary=True) as handle:
            np.save(handle, vectors)
        return vectors

    def similarity(self, queries: Sequence[str], references: Sequence[str]) -> list[list[float]]:
        if not queries or not references:
            return [[] for _ in queries]
        query_vectors = self._encode(queries)
        reference_vectors = self._encode_cached(references)
        return (query_vectors @ reference_vectors.T).tolist()


def minilm_installed() -> bool:
    """Whether the MiniLM package is there (checked without importing anything heavy)."""
    from advisor.errors import ModelError
    from advisor.models import resolve_embedder

    try:
        resolve_embedder("minilm")
    except ModelError:
        return False
    return True


def best_label(
    matcher: TextMatcher, queries: Sequence[str], prototypes: dict[str, Sequence[str]]
) -> tuple[str, float, str]:
    """(label, similarity, query) of the best-matching prototype over all queries."""
    labels = [name for name, sentences in prototypes.items() for _ in sentences]
    references = [s for sentences in prototypes.values() for s in sentences]
    best = ("", -1.0, "")
    for query, row in zip(queries, matcher.similarity(queries, references), strict=True):
        for name, score in zip(labels, row, strict=True):
            if score > best[1]:
                best = (name, float(score), query)
    return best
