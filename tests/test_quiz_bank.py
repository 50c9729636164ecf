"""The bank format: the built-in bank is valid and broad; a bad bank fails on the right line."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from advisor.decision import APPROACHES
from advisor.quiz.bank import (
    BUILTIN_BANK,
    BankError,
    known_label,
    load_bank,
    parse_question,
    topic_counts,
)


def _write(tmp_path, lines: list[str | dict]):
    path = tmp_path / "bank.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def _question(**changes):
    record = {
        "id": "q1",
        "scenario": "A team has thousands of labeled examples. What should it do?",
        "options": {
            "A": "Fine-tune.",
            "B": "Prompt.",
            "C": "Retrieve.",
            "D": "Train from scratch.",
        },
        "answer": "A",
    }
    record.update(changes)
    return record


# ------------------------------------------------------------------ the built-in bank


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def test_builtin_bank_has_at_least_180_questions_with_unique_ids(bank):
    assert len(bank) >= 180
    assert len({q.id for q in bank}) == len(bank)


def test_every_builtin_question_has_four_options_an_explanation_and_a_labeled_key(bank):
    for q in bank:
        assert q.letters == ("A", "B", "C", "D"), q.id
        assert q.answer in q.options, q.id
        assert len(q.explanation) > 80, q.id
        assert q.topic != "general", q.id
        assert q.difficulty in ("easy", "medium", "hard"), q.id
        assert q.key_approach is not None, q.id
        assert all(known_label(label) for label in q.option_approaches.values()), q.id


def test_every_approach_is_the_key_somewhere(bank):
    keyed = Counter(q.key_approach for q in bank if q.key_approach in APPROACHES)
    assert set(keyed) == set(APPROACHES)
    assert min(keyed.values()) >= 5


def test_every_glossary_entry_has_a_question_that_needs_it(bank):
    """A concept is needed by a question that is keyed to it, offers it as an option,
    or names it in its stem or explanation."""
    from advisor.decision.concepts import concepts_in, load_concepts

    needed = set()
    for q in bank:
        needed |= set(q.option_approaches.values())
        needed |= {c.id for c in concepts_in(f"{q.scenario} {q.explanation}")}
    missing = sorted(set(load_concepts()) - needed)
    assert not missing, missing


def test_no_question_offers_the_keys_approach_twice(bank):
    # Otherwise two options would be equally right.
    for q in bank:
        labels = [a for letter, a in q.option_approaches.items() if letter != q.answer]
        assert q.key_approach not in labels, q.id


def test_answer_letters_are_roughly_balanced(bank):
    letters = Counter(q.answer for q in bank)
    assert set(letters) == {"A", "B", "C", "D"}
    assert max(letters.values()) - min(letters.values()) <= len(bank) // 10


def test_bank_covers_the_contrasts_that_trip_people_up(bank):
    topics = topic_counts(bank)
    for topic in (
        "knowledge-vs-behaviour",
        "changing-facts",
        "data-volume",
        "labeled-vs-unlabeled",
        "model-currency",
        "least-effort",
        "inference-cost",
        "from-scratch",
    ):
        assert topics.get(topic, 0) >= 3, topic


def test_round_trip_through_to_dict(bank, tmp_path):
    path = _write(tmp_path, [q.to_dict() for q in bank])
    assert load_bank(path) == bank


# ------------------------------------------------------------------ the format


def test_minimal_bank_with_only_required_fields_and_unknown_extras_loads(tmp_path):
    path = _write(
        tmp_path, [_question(source_exam="AIF-C01", tags=["x"]), _question(id=2, answer="b")]
    )
    first, second = load_bank(path)
    assert first.topic == "general" and first.explanation == "" and first.option_approaches == {}
    assert second.id == "2" and second.answer == "B"


def test_options_may_be_a_list(tmp_path):
    (q,) = load_bank(_write(tmp_path, [_question(options=["one", "two", "three"], answer="C")]))
    assert q.options == {"A": "one", "B": "two", "C": "three"}
    assert q.answer_text == "three"


def test_blank_lines_are_skipped_and_errors_keep_the_real_line_number(tmp_path):
    path = _write(tmp_path, [_question(), "", _question(id="q2", answer="E")])
    with pytest.raises(BankError) as info:
        load_bank(path)
    assert (info.value.line, info.value.field) == (3, "answer")


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ('{"id": "q1", "scenario": "x", ', None, "malformed JSON"),
        ('["a", "list"]', None, "expected a JSON object"),
        (_question(id=None), "id", "missing"),
        (_question(scenario="  "), "scenario", "missing or empty"),
        (_question(options="ABCD"), "options", "lettered options"),
        (_question(options={"A": "only one"}), "options", "at least two"),
        (_question(options={"A": "x", "C": "y"}), "options", "not A, B"),
        (_question(options={"A": "x", "B": ""}), "options.B", "empty option"),
        (_question(answer="E"), "answer", "not one of the options"),
        (_question(answer=1), "answer", "not one of the options"),
        (_question(topic=5), "topic", "expected a string"),
        (_question(option_approaches={"A": 3}), "option_approaches.A", "expected a label"),
        (_question(option_approaches={"F": "rag"}), "option_approaches", "not one of the options"),
    ],
)
def test_malformed_question_names_file_line_and_field(tmp_path, line, field, message):
    path = _write(tmp_path, [_question(id="ok"), line])
    with pytest.raises(BankError) as info:
        load_bank(path)
    error = info.value
    assert error.file == str(path)
    assert error.line == 2
    assert error.field == field
    assert message in error.message
    assert f"{path}:2" in str(error)


def test_duplicate_id_names_both_lines(tmp_path):
    path = _write(tmp_path, [_question(), _question(id="q2"), _question()])
    with pytest.raises(BankError, match=r"duplicate id 'q1' \(first on line 1\)") as info:
        load_bank(path)
    assert info.value.line == 3


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(BankError, match="not found"):
        load_bank(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(BankError, match="empty"):
        load_bank(empty)


def test_a_bank_written_for_another_tool_keeps_its_own_labels():
    """Labels are read as they are; only the built-in bank is held to the known ones."""
    question = parse_question(_question(option_approaches={"A": "finetune", "B": "prompt"}))
    assert question.option_approaches == {"A": "finetune", "B": "prompt"}
    assert not known_label("finetune") and known_label("prompt")
    assert known_label("transfer_learning") and known_label("other")


def test_builtin_bank_path_is_packaged():
    assert BUILTIN_BANK.is_file()
    assert BUILTIN_BANK.parent.name == "data"


def test_explanations_name_the_concepts_they_rest_on(bank):
    from advisor.decision.concepts import load_concepts

    with_concepts = [q for q in bank if q.concepts]
    assert len(with_concepts) >= 0.9 * len(bank)
    assert all(c in load_concepts() for q in bank for c in q.concepts)
    lora = next(q for q in bank if q.id == "concept-lora-1")
    assert "lora" in lora.concepts
