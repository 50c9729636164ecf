"""`supervised` and `embed`: the cheap classifiers every engineer tries first on labels.

Neither touches the generator. They answer the question a team asks before it
adapts a language model for routing or tagging: does that beat a model that
learned only from our labels, or a frozen encoder with a linear layer on top?

- `supervised` — supervised learning from scratch: TF-IDF features of the
  labeled examples' text (word 1-2-grams, and character 2-5-grams that survive
  typos) and a logistic-regression classifier, nothing pre-trained at all.
- `embed` — transfer learning without fine-tuning: the same classifier on
  frozen sentence embeddings (the run's embedder, MiniLM by default, or any
  sentence-transformers folder set as `embed.embedder`).

Both train on the last user turn of each train example and its label, seeded,
in seconds on a CPU, and answer with a label (`scoring` "classifier").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from strategies.protocol import Answer, Needs, PrepareReport, StrategyContext

CLASSIFIER_NEEDS = Needs(
    task_types=("classification",), generator=False, examples=True, learns_labels=True
)


def _labeled(ctx: StrategyContext) -> tuple[list[str], list[str]]:
    texts = [example.question for example in ctx.task.train]
    labels = [example.answer.strip() for example in ctx.task.train]
    return texts, labels


def _logistic_regression(c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, random_state=seed)


def _answers(predicted: Sequence[str], seconds: float) -> list[Answer]:
    share = seconds / max(len(predicted), 1)
    return [Answer(str(label), 0, 0, share, scoring="classifier") for label in predicted]


class SupervisedStrategy:
    """TF-IDF + logistic regression trained on the task's labeled examples alone."""

    name = "supervised"
    needs = CLASSIFIER_NEEDS

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, make_pipeline

        settings = ctx.config.supervised
        texts, labels = _labeled(ctx)
        began = time.perf_counter()
        features = [
            ("words", TfidfVectorizer(ngram_range=(1, settings.ngram_max), sublinear_tf=True))
        ]
        if settings.char_ngrams:
            features.append(
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                )
            )
        self.model = make_pipeline(
            FeatureUnion(features), _logistic_regression(settings.c, ctx.seed)
        )
        self.model.fit(texts, labels)
        took = time.perf_counter() - began
        vocabulary = sum(len(v.vocabulary_) for _, v in self.model[0].transformer_list)
        return PrepareReport(
            train_time_s=took,
            details={"train_examples": len(texts), "features": vocabulary, "classifier": "tfidf"},
        )

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        began = time.perf_counter()
        predicted = self.model.predict(list(questions)) if questions else []
        return _answers(predicted, time.perf_counter() - began)


class EmbedStrategy:
    """Logistic regression on frozen sentence embeddings of the labeled examples."""

    name = "embed"
    needs = CLASSIFIER_NEEDS

    def prepare(self, ctx: StrategyContext) -> PrepareReport:
        from strategies.retrieval import embed_texts

        settings = ctx.config.embed
        texts, labels = _labeled(ctx)
        began = time.perf_counter()
        self.embedder = self._embedder(ctx, settings.embedder)
        vectors = embed_texts(self.embedder, texts)
        self.model = _logistic_regression(settings.c, ctx.seed).fit(vectors, labels)
        took = time.perf_counter() - began
        return PrepareReport(
            train_time_s=took,
            details={
                "train_examples": len(texts),
                "dimensions": int(vectors.shape[1]),
                "embedder": settings.embedder or ctx.models.embedder_spec,
            },
        )

    @staticmethod
    def _embedder(ctx: StrategyContext, spec: str) -> Any:
        if not spec or spec == ctx.models.embedder_spec:
            return ctx.models.embedder()
        from advisor.models import load_embedder

        return load_embedder(spec, device=ctx.device.device if ctx.device.is_cuda else "cpu")

    def answer(self, questions: Sequence[str]) -> list[Answer]:
        from strategies.retrieval import embed_texts

        began = time.perf_counter()
        predicted = (
            self.model.predict(embed_texts(self.embedder, list(questions))) if questions else []
        )
        return _answers(predicted, time.perf_counter() - began)
