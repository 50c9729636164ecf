"""The learned reader: multiple-choice questions read by classifiers trained on a
corpus of practice questions, not by keyword cues.

Keyword cues score 100% on the text they were tuned on and 53-71% on text nobody
tuned them on (docs/recommend.md); every new phrasing needed a new cue. This
reader instead learns from a corpus of practice questions
(`data/practice.jsonl`: 1,015 exam-style questions and scenarios, written for
training by writers who never saw an evaluation set) and from the concept
glossary (every term, alias and definition):

- an **option reader** maps an option's text to what it stands for — an
  approach (`rag`, `distill`, ...), a glossary concept (`transfer_learning`,
  `batch_inference`, ...) or `other`;
- a **stem reader** maps the question's stem to what its right answer stands for;
- the option chosen is the one most likely to stand for what the stem asks:
  Σ_label P(label | stem) · P(label | option), plus the same with concepts
  folded into the approach they map to (a stem that asks for continued
  pre-training matches an option that names "domain-adaptive pre-training");
- a **statement reader** says how likely an option is a true statement of the
  field (trained on the options of "which statement is correct?" questions and
  on the glossary's definitions): it weighs in where the stem asks which
  statement is true, or false;
- three kinds of question are reasoned out rather than matched, from the
  glossary's orderings and definitions: the MOST or LEAST of an ordering
  (security ownership on the scoping ladder; cost and effort of the approaches,
  when the question is about the approaches themselves), a list in the right
  order ("from least to most costly"), and how many examples a prompt shows
  (zero-, one-, few-shot).

Both readers are logistic regressions (scikit-learn) over TF-IDF word 1-2-grams
(which keep phrases such as "no labeled data" or "thumbs-up ratings") and the
text's MiniLM sentence embedding (which carries paraphrase). Training takes a
few seconds once the texts are embedded; the fitted reader is cached, keyed by
the corpus, the glossary and the embedder.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.decision.concepts import CONCEPTS_FILE, load_concepts
from advisor.fileio import atomic_writer

PRACTICE_FILE = Path(__file__).with_name("data") / "practice.jsonl"
READER_VERSION = 4  # bump when the features or the model change
EMBEDDING_WEIGHT = 1.0
REGULARISATION_C = 10.0
TRUTH_WEIGHT = 1.0  # how much the statement reader counts against the match, on statement questions
# On statement questions the match (which option fits what the stem asks about) counts at
# this weight beside the truth: every option is usually about the stem's topic, so the
# match matters less there. 5-fold CV over the 128 statement questions of practice + bank:
# 91 at 1.0, 93 at 0.75, 91 at 0.5, 81 at 0 (truth alone) -- docs/recommend.md.
STATEMENT_MATCH_WEIGHT = 0.75
DEFINITION_WEIGHT = 1.0  # how much a stem's likeness to an option's glossary definition counts

STATEMENT_QUESTION = re.compile(
    r"\bstatements?\b|\b(?:is|are) (?:true|correct|accurate|false|incorrect)\b"
    r"|\bcorrectly (?:describes?|contrasts?|explains?|states?|compares?)|\bbest describes?\b"
    r"|\bdescribes? the difference",
    re.IGNORECASE,
)
NEGATED_QUESTION = re.compile(  # "FALSE" as exams write it, or "false"; NOT/EXCEPT in capitals only
    r"(?i:\b(?:false|incorrect|not true|untrue|inaccurate|misconception)\b)|\b(?:NOT|EXCEPT)\b"
)
DEFINITION_QUESTION = re.compile(
    r"\bwhich (?:term|concept|technique|method|practice|process|component|type of|kind of|"
    r"learning|paradigm|capability)\b|\bwhat (?:is|are) (?:this|these|the term|it) (?:called|known)"
    r"|\b(?:is|are) (?:called|known as|referred to as)\b|\bwhat does\b.{0,60}\b(?:mean|change|do)\b"
    r"|\bbest describes?\b|\bwhich (?:statement|option) describes\b",
    re.IGNORECASE,
)
MOST = re.compile(r"\b(?:most|highest|greatest|largest|maximum|biggest)\b", re.IGNORECASE)
LEAST = re.compile(r"\b(?:least|lowest|fewest|smallest|minimum|cheapest)\b", re.IGNORECASE)
REQUIREMENTS = re.compile(
    r"\brequirements?\b|\bmeets?\b|\bmust\b|\bwants? to\b|\bneeds? to\b|\bshould (?:the|it|they)\b",
    re.IGNORECASE,
)
ASCENDING = re.compile(
    r"\bfrom (?:the )?(?:least|lowest|cheapest|fewest|smallest)\b", re.IGNORECASE
)
DESCENDING = re.compile(r"\bfrom (?:the )?(?:most|highest|greatest|largest)\b", re.IGNORECASE)
NUMBER_WORDS = {
    "no": 0,
    "zero": 0,
    "none": 0,
    "without": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "a single": 1,
    "exactly one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "several": 3,
    "a few": 3,
    "a handful of": 3,
    "some": 3,
    "multiple": 3,
    "many": 5,
}
SHOWN_EXAMPLES = re.compile(
    r"\b(?P<count>\d+|no|zero|without|exactly one|a single|single|an?|one|two|three|four|five|six"
    r"|several|a few|a handful of|multiple)\s+(?:(?:solved|worked|labeled|labelled|sample|example"
    r"|input-output|completed|annotated|demonstration)\s+)*(?:examples?|demonstrations?|samples?"
    r"|exemplars?|example (?:pairs|invoices|questions|answers))\b",
    re.IGNORECASE,
)
SHOT_LABELS = {0: "zero_shot", 1: "one_shot"}


@dataclass(frozen=True)
class ReaderChoice:
    """The reader's answer: the letter, each option's score, and what it read."""

    letter: str
    scores: Mapping[str, float]  # letter → match probability
    stem_labels: tuple[tuple[str, float], ...]  # the stem's most likely labels
    option_labels: Mapping[str, str]  # letter → the label the option most likely stands for
    how: str = "matched"  # or "statements weighed", or the reasoning that decided it


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
        statements, truths = statement_texts(questions)
        self.truth_words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(statements)
        self.truth_model = LogisticRegression(C=REGULARISATION_C, max_iter=3000).fit(
            self._features(self.truth_words, statements), truths
        )
        concepts = load_concepts()
        self.definition_ids = list(concepts)
        self.definitions = self._embed(
            [f"{c.term}. {c.definition} {' '.join(c.cues)}" for c in concepts.values()]
        )
        self.trained_on = len(questions)
        return self

    # -- reading

    def read_options(self, texts: Sequence[str]) -> list[dict[str, float]]:
        probabilities = self.option_model.predict_proba(self._features(self.option_words, texts))
        return [dict(zip(self.option_model.classes_, row, strict=True)) for row in probabilities]

    def read_truth(self, texts: Sequence[str]) -> list[float]:
        """How likely each text is a true statement of the field."""
        column = list(self.truth_model.classes_).index(True)
        probabilities = self.truth_model.predict_proba(self._features(self.truth_words, texts))
        return [float(row[column]) for row in probabilities]

    def _definition_likeness(
        self, stem: str, readings: Sequence[Mapping[str, float]], letters: Sequence[str]
    ) -> dict[str, float]:
        """How much the stem reads like the glossary entry of the concept each option
        names ("Which term describes <a definition in new words>?"), above the mean
        of the options, so it separates the options without raising them all."""
        import numpy as np

        (stem_vector,) = self._embed([stem])
        likeness = {}
        for letter, reading in zip(letters, readings, strict=True):
            named = [c for c, p in reading.items() if p >= 0.25 and c in self.definition_ids]
            rows = [self.definition_ids.index(c) for c in named]
            likeness[letter] = float(np.max(self.definitions[rows] @ stem_vector)) if rows else 0.0
        mean = sum(likeness.values()) / max(len(likeness), 1)
        return {x: v - mean if v else 0.0 for x, v in likeness.items()}

    def read_stem(self, stem: str) -> dict[str, float]:
        (row,) = self.stem_model.predict_proba(self._features(self.stem_words, [stem]))
        return dict(zip(self.stem_model.classes_, row, strict=True))

    def read_approaches(self, text: str) -> dict[str, float]:
        """What the text reads like, folded into the approaches (the engine's `reading`)."""
        from advisor.decision.approaches import APPROACHES

        folded = _folded(self.read_stem(text))
        return {a: float(folded[a]) for a in APPROACHES if folded.get(a)}

    def choose(self, stem: str, options: Mapping[str, str]) -> ReaderChoice:
        letters = list(options)
        texts = [options[x] for x in letters]
        asked = self.read_stem(stem)
        asked_approaches = _folded(asked)
        readings = self.read_options(texts)
        scores = {}
        for letter, offered in zip(letters, readings, strict=True):
            direct = sum(asked.get(label, 0.0) * p for label, p in offered.items())
            folded = sum(asked_approaches[a] * p for a, p in _folded(offered).items())
            scores[letter] = float(direct + folded)
        if DEFINITION_QUESTION.search(stem):
            for letter, bonus in self._definition_likeness(stem, readings, letters).items():
                scores[letter] += DEFINITION_WEIGHT * bonus
        how = "matched"
        if STATEMENT_QUESTION.search(stem):
            negated = bool(NEGATED_QUESTION.search(stem))
            for letter, truth in zip(letters, self.read_truth(texts), strict=True):
                scores[letter] *= STATEMENT_MATCH_WEIGHT
                scores[letter] += TRUTH_WEIGHT * ((1.0 - truth) if negated else truth)
            how = "statements weighed"
        labels = {x: max(r, key=r.get) for x, r in zip(letters, readings, strict=True)}
        reasoned = (
            _ordered_list(stem, options)
            or _extreme_of_scale(stem, labels)
            or _shown_examples(stem, labels)
        )
        best = max(letters, key=lambda x: scores[x])
        if reasoned is not None:
            best, how = reasoned
        return ReaderChoice(
            letter=best,
            scores=scores,
            stem_labels=tuple(sorted(asked.items(), key=lambda kv: -kv[1])[:3]),
            option_labels=labels,
            how=how,
        )


# ---------------------------------------------------------------- reasoned answers


def _scale_of(stem: str) -> Any:
    from advisor.decision.concepts import load_scales

    for scale in load_scales().values():
        if any(cue.search(stem) for cue in scale.cues):
            return scale
    return None


def _extreme_of_scale(stem: str, labels: Mapping[str, str]) -> tuple[str, str] | None:
    """The option at the MOST / LEAST end of the ordering the question is about. The
    cost ordering counts only when the question asks about the approaches themselves,
    not for the cheapest approach that meets a scenario's requirements."""
    most, least = bool(MOST.search(stem)), bool(LEAST.search(stem))
    scale = _scale_of(stem)
    if most == least or scale is None:
        return None
    if scale.name == "cost" and (REQUIREMENTS.search(stem) or len(re.findall(r"[.?!]", stem)) > 1):
        return None
    positions = {x: scale.position(label) for x, label in labels.items()}
    placed = {x: p for x, p in positions.items() if p is not None}
    if len(placed) < 3 or len(set(placed.values())) < len(placed):
        return None
    pick = max if most else min
    letter = pick(placed, key=placed.get)
    return letter, f"{'most' if most else 'least'} on the {scale.name.replace('_', ' ')} ordering"


def _ordered_list(stem: str, options: Mapping[str, str]) -> tuple[str, str] | None:
    """For "which list orders ... from least to most ...": the option whose named items
    follow the ordering."""
    from advisor.decision.concepts import concepts_in

    ascending, descending = bool(ASCENDING.search(stem)), bool(DESCENDING.search(stem))
    scale = _scale_of(stem)
    if ascending == descending or scale is None:
        return None
    sequences = {}
    for letter, text in options.items():
        named = [scale.position(c.id) for c in concepts_in(text)]
        sequences[letter] = [p for p in named if p is not None]
    listed = {x: seq for x, seq in sequences.items() if len(seq) >= 3}
    if len(listed) < 2:
        return None
    in_order = [
        x
        for x, seq in listed.items()
        if seq == sorted(seq, reverse=descending) and len(set(seq)) == len(seq)
    ]
    if len(in_order) != 1:
        return None
    return in_order[0], f"the list in {scale.name} order"


def _shown_examples(stem: str, labels: Mapping[str, str]) -> tuple[str, str] | None:
    """A prompt that shows no example is zero-shot, one example one-shot, more few-shot."""
    offered = {
        x: label
        for x, label in labels.items()
        if label in ("zero_shot", "one_shot", "few_shot", "fewshot")
    }
    match = SHOWN_EXAMPLES.search(stem)
    if len(offered) < 2 or match is None:
        return None
    word = match.group("count").lower()
    count = int(word) if word.isdigit() else NUMBER_WORDS.get(word, 3)
    wanted = SHOT_LABELS.get(count, "few_shot")
    found = [
        x
        for x, label in offered.items()
        if label == wanted or (wanted == "few_shot" and label == "fewshot")
    ]
    if len(found) != 1:
        return None
    return found[0], f"a prompt with {count} example(s) is {wanted.replace('_', '-')}"


def statement_texts(questions: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[bool]]:
    """Statements and whether each is true: the options of "which statement is
    correct (or false)?" questions, and the glossary's definitions and distinctions
    (true by construction)."""
    texts, truths = [], []
    for question in questions:
        if not STATEMENT_QUESTION.search(question["scenario"]):
            continue
        negated = bool(NEGATED_QUESTION.search(question["scenario"]))
        for letter, text in question["options"].items():
            texts.append(text)
            truths.append((letter == question["answer"]) != negated)
    concepts = load_concepts()
    for concept in concepts.values():
        texts.append(concept.definition)
        truths.append(True)
        for confusion in concept.confusions:
            texts.append(confusion.how)
            truths.append(True)
            swapped = _swap_names(confusion.how, concept, concepts[confusion.other])
            if swapped is not None:  # the same sentence with the two names swapped is false
                texts.append(swapped)
                truths.append(False)
    return texts, truths


def _swap_names(text: str, first: Any, second: Any) -> str | None:
    """`text` with the names of two concepts swapped, when it names both."""

    def name_in(concept: Any) -> str | None:
        for name in sorted(concept.names, key=len, reverse=True):
            if len(name) > 2 and re.search(rf"(?i)\b{re.escape(name)}\b", text):
                return name
        return None

    a, b = name_in(first), name_in(second)
    if a is None or b is None or a.lower() in b.lower() or b.lower() in a.lower():
        return None
    marker = "\0"
    swapped = re.sub(rf"(?i)\b{re.escape(a)}\b", marker, text)
    swapped = re.sub(rf"(?i)\b{re.escape(b)}\b", a, swapped)
    return swapped.replace(marker, b)


def _folded(distribution: Mapping[str, float]) -> Counter:
    folded: Counter = Counter()
    for label, p in distribution.items():
        folded[approach_of(label)] += p
    return folded


# ---------------------------------------------------------------- the shipped reader


def training_files(practice: Path = PRACTICE_FILE) -> tuple[Path, ...]:
    """What the shipped reader learns from: the practice corpus and the quiz bank."""
    from advisor.quiz.bank import BUILTIN_BANK

    return (practice, BUILTIN_BANK) if practice == PRACTICE_FILE else (practice,)


def corpus_key(files: Sequence[Path], embedder_key: str = "") -> str:
    """What the fitted reader depends on: the corpus, the glossary, the embedder, the code."""
    digest = hashlib.sha256(f"reader-v{READER_VERSION}\0{embedder_key}\0".encode())
    for path in (*files, CONCEPTS_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def load_reader(embedder_spec: str = "minilm", practice: Path = PRACTICE_FILE) -> LearnedReader:
    """The reader trained on the shipped practice corpus and the quiz bank (1,237
    questions), from the cache when it was fitted before with the same files, glossary
    and embedder (a minute or two the first time on a laptop CPU, most of it embedding
    the corpus; a second after)."""
    import joblib

    from advisor.models import cache_dir, folder_sha256, load_embedder, resolve_embedder

    embedder_key = f"{embedder_spec}:{folder_sha256(resolve_embedder(embedder_spec))[:16]}"
    files = training_files(practice)
    path = cache_dir() / "decision" / f"reader-{corpus_key(files, embedder_key)}.joblib"
    embedder = load_embedder(embedder_spec)
    if path.is_file():
        reader = joblib.load(path)
        reader.embedder = embedder
        return reader
    questions = [q for file in files for q in _practice_questions(file)]
    reader = LearnedReader(embedder, embedder_key).fit(questions)
    path.parent.mkdir(parents=True, exist_ok=True)
    reader.embedder = None  # the model is loaded again from its package, not pickled
    with atomic_writer(path, binary=True) as handle:
        joblib.dump(reader, handle)
    reader.embedder = embedder
    return reader
