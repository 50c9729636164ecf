"""Quiz logic without a terminal: choosing questions, reading replies and answer sheets, scoring."""

from __future__ import annotations

import json

import pytest

from advisor.errors import AdvisorError
from advisor.quiz.bank import Question
from advisor.quiz.session import (
    QuizResult,
    Response,
    build_quiz,
    filter_topics,
    grade_sheet,
    interpret_reply,
    parse_answer_sheet,
    resolve_seed,
    save_results,
    select_questions,
)

LETTERS = ("A", "B", "C", "D")


def _q(qid: str, answer: str = "A", topic: str = "t1") -> Question:
    return Question(
        id=qid,
        scenario=f"scenario {qid}",
        options={letter: f"option {letter}" for letter in LETTERS},
        answer=answer,
        topic=topic,
    )


POOL = [_q(f"q{i}", "ABCD"[i % 4], "alpha" if i % 2 else "beta") for i in range(20)]


def test_selection_is_reproducible_by_seed_and_varies_with_it():
    first = select_questions(POOL, 5, seed=7)
    assert [q.id for q in first] == [q.id for q in select_questions(POOL, 5, seed=7)]
    assert [q.id for q in first] != [q.id for q in select_questions(POOL, 5, seed=8)]
    assert len({q.id for q in first}) == 5


def test_selection_without_n_takes_everything_shuffled():
    everything = select_questions(POOL, None, seed=1)
    assert sorted(q.id for q in everything) == sorted(q.id for q in POOL)
    assert [q.id for q in everything] != [q.id for q in POOL]


def test_resolve_seed_keeps_a_given_seed_and_invents_one_otherwise():
    assert resolve_seed(42) == 42
    assert isinstance(resolve_seed(None), int)


def test_topic_filter_is_case_insensitive_and_unknown_topics_are_listed():
    assert {q.topic for q in filter_topics(POOL, ["ALPHA"])} == {"alpha"}
    assert filter_topics(POOL, None) == POOL
    with pytest.raises(AdvisorError) as info:
        filter_topics(POOL, ["gamma"])
    assert "gamma" in info.value.message
    assert "alpha, beta" in info.value.hint


def test_build_quiz_filters_then_picks_n():
    quiz = build_quiz(POOL, n=3, topics=["beta"], seed=3)
    assert len(quiz) == 3 and {q.topic for q in quiz} == {"beta"}
    with pytest.raises(AdvisorError):
        build_quiz(POOL, n=-1, topics=None, seed=3)


@pytest.mark.parametrize(
    ("typed", "kind", "letter"),
    [
        ("a", "answer", "A"),
        (" C ", "answer", "C"),
        ("d)", "answer", "D"),
        ("s", "skip", None),
        ("Q", "quit", None),
        ("?", "help", None),
        ("h", "help", None),
        ("e", "invalid", None),
        ("", "invalid", None),
        ("ab", "invalid", None),
    ],
)
def test_interpret_reply(typed, kind, letter):
    reply = interpret_reply(typed, LETTERS)
    assert (reply.kind, reply.letter) == (kind, letter)


@pytest.mark.parametrize(
    ("text", "sheet"),
    [
        ("ABDC", ["A", "B", "D", "C"]),
        ("a b d c\n", ["A", "B", "D", "C"]),
        ("A,-,c", ["A", None, "C"]),
        ("A\nB\n\nC\n", ["A", "B", "C"]),
        ("", []),
    ],
)
def test_parse_answer_sheet(text, sheet):
    assert parse_answer_sheet(text) == sheet


def test_unreadable_answer_sheet_says_what_to_give():
    with pytest.raises(AdvisorError) as info:
        parse_answer_sheet("AB3")
    assert "'3'" in info.value.message and "ABDC" in info.value.hint


def test_grading_a_sheet_pairs_answers_in_order_and_skips_the_rest():
    questions = [_q("q1", "A"), _q("q2", "B"), _q("q3", "C")]
    responses = grade_sheet(questions, ["A", "C"])
    assert [(r.given, r.correct, r.skipped) for r in responses] == [
        ("A", True, False),
        ("C", False, False),
        (None, False, True),
    ]
    with pytest.raises(AdvisorError, match="4 answers for 3 questions"):
        grade_sheet(questions, ["A", "B", "C", "D"])
    with pytest.raises(AdvisorError, match="options A, B, C, D"):
        grade_sheet(questions, ["E"])


def test_result_scores_and_per_topic_breakdown(tmp_path):
    responses = [
        Response(_q("q1", "A", "alpha"), "A"),
        Response(_q("q2", "B", "alpha"), "C"),
        Response(_q("q3", "C", "beta"), None),
        Response(_q("q4", "D", "beta"), "D"),
    ]
    result = QuizResult(
        responses, seed=5, mode="answers", bank="built-in", planned=6, quit_early=True
    )
    assert (result.correct, result.total, result.skipped, result.accuracy) == (2, 4, 1, 0.5)
    assert {t: (s.correct, s.total) for t, s in result.by_topic().items()} == {
        "alpha": (1, 2),
        "beta": (1, 2),
    }

    saved = json.loads(save_results(result, tmp_path / "out" / "r.json").read_text())
    assert saved["score"] == {"correct": 2, "total": 4, "skipped": 1, "accuracy": 0.5}
    assert saved["by_topic"]["beta"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert (saved["seed"], saved["planned"], saved["quit_early"]) == (5, 6, True)
    assert [(q["id"], q["given"], q["correct"]) for q in saved["questions"]] == [
        ("q1", "A", True),
        ("q2", "C", False),
        ("q3", None, False),
        ("q4", "D", True),
    ]
