"""Generated questions: reproducible by seed, keyed by the engine, one defensible answer each."""

from __future__ import annotations

import random

from advisor.decision import APPROACHES, Scenario, recommend
from advisor.decision.recommendation import NOT_ADVISED
from advisor.quiz.bank import parse_question
from advisor.quiz.generate import (
    GENERATED_TOPIC,
    OPTION_TEXT,
    coherent,
    describe_scenario,
    draw_clear_scenario,
    generate_questions,
)


def test_same_seed_same_questions_other_seed_other_questions():
    first = generate_questions(8, seed=11)
    assert first == generate_questions(8, seed=11)
    assert [q.scenario for q in first] != [q.scenario for q in generate_questions(8, seed=12)]
    assert [q.id for q in first] == [f"gen-11-{i}" for i in range(1, 9)]


def test_the_key_is_the_engines_top_approach_and_distractors_are_not_advised():
    for seed in range(15):
        scenario, recommendation, distractors = draw_clear_scenario(random.Random(seed))
        assert recommend(scenario).approach == recommendation.approach
        assert len(set(distractors)) == 3 and recommendation.approach not in distractors
        assert all(recommendation.verdict_of(a).verdict == NOT_ADVISED for a in distractors)


def test_generated_questions_are_valid_bank_questions():
    questions = generate_questions(20, seed=3)
    for q in questions:
        assert q.topic == GENERATED_TOPIC and q.source == "generated"
        assert q.letters == ("A", "B", "C", "D")
        assert set(q.option_approaches.values()) <= set(APPROACHES)
        assert len(set(q.option_approaches.values())) == 4
        assert q.options[q.answer] in OPTION_TEXT[q.key_approach]
        assert q.explanation.startswith(recommend_label(q.key_approach))
        # What the bank loader reads back is the same question.
        record = q.to_dict()
        assert parse_question(record).options == q.options
    assert len({q.answer for q in questions}) > 1  # the key's letter varies


def recommend_label(approach: str) -> str:
    from advisor.decision import APPROACH_LABELS

    return APPROACH_LABELS[approach]


def test_scenario_wording_states_each_known_fact():
    text = describe_scenario(
        Scenario(
            labeled_examples=5000, knowledge_changes="weekly", gaps=("tone",), goal="least_effort"
        )
    )
    assert "5,000 labeled input-output examples" in text
    assert "changes every week" in text
    assert "does not match the required tone" in text
    assert text.endswith("LEAST effort?")
    assert "GPU" not in text  # unknown facts are not mentioned


def test_contradictory_facts_are_dropped_before_asking():
    scenario = coherent(
        Scenario(
            labeled_examples=0, label_quality="high", knowledge="none", knowledge_changes="daily"
        )
    )
    assert scenario.label_quality == "unknown" and scenario.knowledge_changes == "unknown"
    assert (
        coherent(Scenario(gaps=("modality",), base_model_fit="close")).base_model_fit == "unknown"
    )
    kept = Scenario(labeled_examples=100, label_quality="high")
    assert coherent(kept) == kept


def test_the_keyword_engine_reads_the_generated_questions():
    """Every generated question's key comes from the rules, so the engine misses one only
    where it misreads a template sentence: 299/300 on seeds 1-3 when this was set (271
    before the sentences of docs/recommend.md's fourth round were read)."""
    from advisor.decision.text import choose_option

    questions = [q for seed in (1, 2, 3) for q in generate_questions(100, seed)]
    misses = [
        q.id for q in questions if choose_option(q.scenario, dict(q.options)).letter != q.answer
    ]
    assert len(misses) <= 6, misses
