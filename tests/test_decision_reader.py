"""The learned reader: trained on the practice corpus, it reads stems and options into
approaches and concepts; the corpus covers the field and shares no text with the sets
that measure the reader."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from advisor.decision import APPROACHES
from advisor.decision.concepts import load_concepts
from advisor.decision.reader import (
    PRACTICE_FILE,
    STATEMENT_MATCH_WEIGHT,
    LearnedReader,
    approach_of,
    training_texts,
)
from advisor.quiz.bank import BUILTIN_BANK, known_label
from tiny import HashEmbedder

DECISION_DATA = Path(__file__).parent / "data" / "decision"


def _questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def practice():
    return _questions(PRACTICE_FILE)


def test_the_corpus_keys_every_approach_often_and_labels_every_option(practice):
    keyed = Counter(q["option_approaches"][q["answer"]] for q in practice)
    assert all(keyed[a] >= 20 for a in APPROACHES), keyed
    for q in practice:
        assert set(q["option_approaches"]) == set(q["options"]), q["id"]
        assert all(known_label(v) for v in q["option_approaches"].values()), q["id"]
    assert len(practice) >= 400 and len({q["id"] for q in practice}) == len(practice)


def test_the_corpus_shares_no_question_with_the_sets_that_measure_the_reader(practice):
    import yaml

    from advisor.tasks import normalise_question

    measured = {normalise_question(q["scenario"]) for q in _questions(BUILTIN_BANK)}
    for path in DECISION_DATA.glob("scenarios*.yaml"):
        measured |= {normalise_question(i["text"]) for i in yaml.safe_load(path.read_text())}
    assert not [q["id"] for q in practice if normalise_question(q["scenario"]) in measured]


def test_training_texts_include_every_glossary_term(practice):
    option_texts, option_labels, stems, stem_labels = training_texts(practice[:5])
    concepts = load_concepts()
    for concept in concepts.values():
        assert concept.term in option_texts
        assert option_labels[option_texts.index(concept.term)] == concept.id
        assert concept.definition in stems


def test_concepts_fold_into_the_approach_they_map_to():
    assert approach_of("domain_adaptation") == "cpt"
    assert approach_of("rlhf") == "preference"
    assert approach_of("batch_inference") == "batch_inference"  # not an approach
    assert approach_of("rag") == "rag"


TOY = [
    {
        "id": f"t{n}",
        "scenario": stem,
        "options": {"A": a, "B": b},
        "answer": "A" if key == "a" else "B",
        "option_approaches": {"A": la, "B": lb},
    }
    for n, (stem, a, la, b, lb, key) in enumerate(
        [
            (
                "Prices change every week and answers must cite them.",
                "Retrieve the price list at query time.",
                "rag",
                "Fine-tune on last year's prices.",
                "sft",
                "a",
            ),
            (
                "Facts change daily; answers need sources.",
                "Index the documents and retrieve passages.",
                "rag",
                "Train a new model from scratch.",
                "scratch",
                "a",
            ),
            (
                "We have 20,000 curated examples of the house format.",
                "Prompt the model harder.",
                "prompt",
                "Fine-tune a LoRA adapter on the examples.",
                "sft",
                "b",
            ),
            (
                "Thousands of labeled replies in our tone.",
                "Retrieve documents.",
                "rag",
                "Fine-tune on the labeled replies.",
                "sft",
                "b",
            ),
        ]
        * 3
    )
]


def test_a_reader_learns_what_stems_ask_for_and_what_options_stand_for():
    reader = LearnedReader(HashEmbedder()).fit(TOY)
    choice = reader.choose(
        "Our prices change every week and must be cited.",
        {"A": "Fine-tune on the prices.", "B": "Retrieve the prices at query time."},
    )
    assert choice.letter == "B"
    assert choice.option_labels["B"] == "rag" and choice.stem_labels[0][0] == "rag"
    assert set(choice.scores) == {"A", "B"} and all(0 <= s <= 2 for s in choice.scores.values())
    again = reader.choose(
        "We have thousands of labeled examples in our house format.",
        {"A": "Retrieve documents at query time.", "B": "Fine-tune a LoRA adapter on them."},
    )
    assert again.letter == "B"


def test_read_approaches_is_the_stem_reading_over_the_approaches():
    reader = LearnedReader(HashEmbedder()).fit(TOY)
    reading = reader.read_approaches("Our prices change every week and must be cited.")
    assert set(reading) <= set(APPROACHES)
    assert max(reading, key=reading.get) == "rag"
    assert 0 < sum(reading.values()) <= 1.0 + 1e-9  # concepts outside the approaches drop out


def test_load_reader_fits_once_and_then_loads_from_the_cache(tmp_path, monkeypatch):
    from advisor.decision import reader as module
    from tiny import save_tiny_embedder

    embedder = save_tiny_embedder(tmp_path / "embedder")
    practice = tmp_path / "practice.jsonl"
    practice.write_text("".join(json.dumps(q) + "\n" for q in TOY))
    first = module.load_reader(str(embedder), practice)
    fits = []
    monkeypatch.setattr(module.LearnedReader, "fit", lambda self, qs: fits.append(1) or self)
    second = module.load_reader(str(embedder), practice)
    assert not fits  # from the cache
    question = ("Prices change weekly.", {"A": "Retrieve them.", "B": "Fine-tune."})
    assert first.choose(*question) == second.choose(*question)


@pytest.mark.parametrize(
    ("stem", "negated"),
    [
        ("Which statement about LoRA is FALSE?", True),  # exams write it in capitals
        ("Which of these statements is false?", True),
        ("Which statement about RAG is NOT true?", True),
        ("All of the following statements are correct EXCEPT:", True),
        ("Which statement is incorrect?", True),
        ("Which statement is correct?", False),
        ("Which statement best describes why it does not work?", False),  # lower-case "not"
    ],
)
def test_negated_statement_questions_are_recognised_in_any_case(stem, negated):
    """A FALSE question read as a TRUE one picks a true statement, and its training
    options get the opposite truth labels: both came from "FALSE" in capitals."""
    from advisor.decision.reader import NEGATED_QUESTION, STATEMENT_QUESTION, statement_texts

    assert STATEMENT_QUESTION.search(stem)
    assert bool(NEGATED_QUESTION.search(stem)) is negated
    question = {"scenario": stem, "options": {"A": "one", "B": "two"}, "answer": "A"}
    texts, truths = statement_texts([question])
    assert dict(zip(texts, truths, strict=True))["one"] is (not negated)


def test_on_statement_questions_the_truth_outweighs_a_slightly_better_topic_match():
    """Every option of "which statement is correct?" is about the stem's topic, so a
    small lead in the match must not outvote the statement reader."""
    reader = LearnedReader(embedder=None)
    reader.read_stem = lambda stem: {"batch_inference": 0.6, "provisioned_throughput": 0.4}
    reader.read_options = lambda texts: [
        {"batch_inference": 1.0},  # A: the stem's topic, a false sentence
        {"provisioned_throughput": 1.0},  # B: a true one
    ]
    reader.read_truth = lambda texts: [0.3, 0.62]
    options = {"A": "Batch inference answers in milliseconds.", "B": "Provisioned ..."}
    # match: A 0.6 + 0.6 folded = 1.2, B 0.8: a lead of 0.4; the truth's lead, 0.32, is less
    assert STATEMENT_MATCH_WEIGHT * 0.4 < 0.32 < 0.4
    choice = reader.choose("Which statement about inference options is correct?", options)
    assert choice.letter == "B" and choice.how == "statements weighed"
    # not a statement question: the match alone decides
    assert reader.choose("Which option suits nightly scoring of files?", options).letter == "A"
