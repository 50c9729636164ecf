"""The learned reader: multiple-choice questions read by classifiers trained on a
corpus of practice questions, not by keyword cues.

Keyword cues score 100% on the text they were tuned on and 53-71% on text nobody
tuned them on (docs/recommend.md); every new phrasing needed a new cue. This
reader instead learns from a corpus of practice questions
(`data/practice.jsonl`: 450 exam-style questions and scenarios, written for
training by writers who never saw an evaluation set) and from the concept
glossary (every term, alias and definition):

- an **option reader** maps an option's text to what it stands for — an
  approach (`rag`, `distill`, ...), a glossary concept (`transfer_learning`,
  `batch_inference`, ...) or `other`;
- a **stem reader** maps the question's stem to what its right answer stands for;
- the option chosen is the one most likely to stand for what the stem asks:
  Σ_label P(label | stem) · P(label | option), plus the same with concepts
  folded into the approach they map to (a stem that asks for continued
  pre-training matches an option that names "domain-adaptive pre-training").

Both readers are logistic regressions (scikit-learn) over TF-IDF word 1-2-grams
(which keep phrases such as "no labeled data" or "thumbs-up ratings") and the
text's MiniLM sentence embedding (which carries paraphrase). Training takes a
few seconds once the texts are embedded; the fitted reader is cached, keyed by
the corpus, the glossary and the embedder.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.decision.concepts import CONCEPTS_FILE, load_concepts

PRACTICE_FILE = Path(__file__).with_name("data") / "practice.jsonl"
READER_VERSION = 1  # bump when the features or the model change
EMBEDDING_WEIGHT = 1.0
REGULARISATION_C = 10.0


@dataclass(frozen=True)
class ReaderChoice:
    """The reader's answer: the letter, each option's score, and what it read."""

    letter: str
    scores: Mapping[str, float]  # letter → match probability
    stem_labels: tuple[tuple[str, float], ...]  # the stem's most likely labels
    option_labels: Mapping[str, str]  # letter → the label the option most likely stands for


def _practice_questions(path: Path) -> list[dict[str, Any]]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("option_approaches"):
                questions.append(record)
    return questions


def training_texts(
    questions: Sequence[Mapping[str, Any]],
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(option texts, their labels, stems, their key labels), glossary entries included:
    each term, alias and definition labelled with its concept."""
    option_texts, option_labels, stems, stem_labels = [], [], [], []
    for question in questions:
        labels = question["option_approaches"]
        for letter, text in question["options"].items():
            if letter in labels:
                option_texts.append(text)
                option_labels.append(labels[letter])
        stems.append(question["scenario"])
        stem_labels.append(labels[question["answer"]])
    for concept in load_concepts().values():
        for text in (concept.term, *concept.aliases, concept.definition):
            option_texts.append(text)
            option_labels.append(concept.id)
        stems.append(concept.definition)
        stem_labels.append(concept.id)
    return option_texts, option_labels, stems, stem_labels


def approach_of(label: str) -> str:
    """A concept folded into the approach it maps to (itself when it maps to none)."""
    concept = load_concepts().get(label)
    return concept.approach if concept is not None and concept.approach else label


class LearnedReader:
    """Fitted option and stem readers; `choose` answers a question."""

    def __init__(self, embedder: Any, embedder_key: str | None = None) -> None:
        self.embedder = embedder
        self.embedder_key = embedder_key

    # -- features

    def _embed(self, texts: Sequence[str]) -> Any:
        from strategies.retrieval import embed_texts

        return embed_texts(self.embedder, list(texts), cache_key=self.embedder_key)

    def _features(self, vectorizer: Any, texts: Sequence[str]) -> Any:
        from scipy import sparse

        dense = sparse.csr_matrix(self._embed(texts) * EMBEDDING_WEIGHT)
        return sparse.hstack([vectorizer.transform(list(texts)), dense]).tocsr()

    # -- training

    def fit(self, questions: Sequence[Mapping[str, Any]]) -> LearnedReader:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        option_texts, option_labels, stems, stem_labels = training_texts(questions)
        self.option_words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(option_texts)
        self.stem_words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(stems)
        self.option_model = LogisticRegression(C=REGULARISATION_C, max_iter=3000).fit(
            self._features(self.option_words, option_texts), option_labels
        )
        self.stem_model = LogisticRegression(C=REGULARISATION_C, max_iter=3000).fit(
            self._features(self.stem_words, stems), stem_labels
        )
        self.trained_on = len(questions)
        return self

    # -- reading

    def read_options(self, texts: Sequence[str]) -> list[dict[str, float]]:
        probabilities = self.option_model.predict_proba(self._features(self.option_words, texts))
        return [dict(zip(self.option_model.classes_, row, strict=True)) for row in probabilities]

    def read_stem(self, stem: str) -> dict[str, float]:
        (row,) = self.stem_model.predict_proba(self._features(self.stem_words, [stem]))
        return dict(zip(self.stem_model.classes_, row, strict=True))

    def choose(self, stem: str, options: Mapping[str, str]) -> ReaderChoice:
        letters = list(options)
        asked = self.read_stem(stem)
        asked_approaches = _folded(asked)
        readings = self.read_options([options[x] for x in letters])
        scores = {}
        for letter, offered in zip(letters, readings, strict=True):
            direct = sum(asked.get(label, 0.0) * p for label, p in offered.items())
            folded = sum(asked_approaches[a] * p for a, p in _folded(offered).items())
            scores[letter] = float(direct + folded)
        return ReaderChoice(
            letter=max(letters, key=lambda x: scores[x]),
            scores=scores,
            stem_labels=tuple(sorted(asked.items(), key=lambda kv: -kv[1])[:3]),
            option_labels={x: max(r, key=r.get) for x, r in zip(letters, readings, strict=True)},
        )


def _folded(distribution: Mapping[str, float]) -> Counter:
    folded: Counter = Counter()
    for label, p in distribution.items():
        folded[approach_of(label)] += p
    return folded


# ---------------------------------------------------------------- the shipped reader


def corpus_key(practice: Path = PRACTICE_FILE, embedder_key: str = "") -> str:
    """What the fitted reader depends on: the corpus, the glossary, the embedder, the code."""
    digest = hashlib.sha256(f"reader-v{READER_VERSION}\0{embedder_key}\0".encode())
    for path in (practice, CONCEPTS_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def load_reader(embedder_spec: str = "minilm", practice: Path = PRACTICE_FILE) -> LearnedReader:
    """The reader trained on the shipped practice corpus, from the cache when it was
    fitted before with the same corpus, glossary and embedder (~1 minute the first
    time on a laptop CPU, most of it embedding the corpus; instant after)."""
    import joblib

    from advisor.models import cache_dir, folder_sha256, load_embedder, resolve_embedder

    embedder_key = f"{embedder_spec}:{folder_sha256(resolve_embedder(embedder_spec))[:16]}"
    path = cache_dir() / "decision" / f"reader-{corpus_key(practice, embedder_key)}.joblib"
    embedder = load_embedder(embedder_spec)
    if path.is_file():
        reader = joblib.load(path)
        reader.embedder = embedder
        return reader
    reader = LearnedReader(embedder, embedder_key).fit(_practice_questions(practice))
    path.parent.mkdir(parents=True, exist_ok=True)
    reader.embedder = None  # the model is loaded again from its package, not pickled
    staging = path.with_suffix(".tmp")
    joblib.dump(reader, staging)
    staging.replace(path)
    reader.embedder = embedder
    return reader
