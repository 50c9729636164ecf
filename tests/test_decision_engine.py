"""Rankings for the classic cases, verdict invariants, and "what would change"."""

from __future__ import annotations

import random

import pytest

from advisor.decision import APPROACHES, Scenario, random_scenario, recommend
from advisor.decision.approaches import EFFORT, label
from advisor.decision.engine import READING_RULE, READING_WEIGHT
from advisor.decision.recommendation import NOT_ADVISED, RECOMMENDED, VIABLE
from advisor.decision.rules import parse_rules

CHANGING_FACTS = Scenario(knowledge="private", knowledge_changes="daily")
TONE_100 = Scenario(labeled_examples=100, label_quality="high", gaps=("tone",))
TWELVE_EXAMPLES = Scenario(labeled_examples=12, gaps=("format",))
NEW_MODALITY = Scenario(
    gaps=("modality",),
    base_model_exists=False,
    compute="cluster",
    budget="vast",
    unlabeled_corpus="massive",
)
VOCABULARY_CORPUS = Scenario(gaps=("vocabulary",), unlabeled_corpus="large")


def test_changing_facts_rag_first_and_trained_in_knowledge_last():
    rec = recommend(CHANGING_FACTS)
    assert rec.approach == "rag"
    assert rec.rank_of("rag") < rec.rank_of("sft+rag") < rec.rank_of("sft")
    assert rec.verdict_of("cpt").verdict == NOT_ADVISED
    assert {"knowledge-gap", "changing-knowledge"} <= {r.id for r in rec.top.for_}


def test_tone_with_100_examples_fine_tunes():
    rec = recommend(TONE_100)
    assert rec.approach == "sft"
    assert rec.order[:2] == ("sft", "fewshot")
    assert rec.verdict_of("scratch").verdict == NOT_ADVISED


def test_twelve_examples_prompt_not_fine_tune():
    rec = recommend(TWELVE_EXAMPLES)
    assert rec.approach == "fewshot"
    assert rec.rank_of("prompt") == 2
    for trained in ("sft", "full_ft", "sft+rag"):
        assert rec.verdict_of(trained).verdict == NOT_ADVISED
        assert "too-few-examples" in {r.id for r in rec.verdict_of(trained).against}


def test_new_modality_with_a_cluster_trains_from_scratch():
    rec = recommend(NEW_MODALITY)
    assert rec.approach == "scratch"
    assert all(rec.verdict_of(a).verdict == NOT_ADVISED for a in APPROACHES if a != "scratch")


def test_scratch_is_ruled_out_without_a_cluster_even_for_a_new_modality():
    rec = recommend(NEW_MODALITY.replace(compute="single_gpu"))
    assert rec.approach != "scratch"
    assert rec.verdict_of("scratch").vetoed_by == ("scratch-needs-cluster",)


def test_unlabeled_corpus_for_vocabulary_continues_pretraining():
    rec = recommend(VOCABULARY_CORPUS)
    assert rec.approach == "cpt"
    assert rec.rank_of("scratch") == len(APPROACHES)


def test_knowledge_and_behaviour_with_examples_combines():
    rec = recommend(Scenario(knowledge="private", gaps=("tone",), labeled_examples=500))
    assert rec.order[:2] == ("sft+rag", "rag")


def test_nothing_known_starts_with_prompting():
    rec = recommend(Scenario())
    assert rec.order[:3] == ("prompt", "fewshot", "rag")


def test_least_effort_goal_prefers_prompting_for_a_close_base_model():
    rec = recommend(Scenario(base_model_fit="close", goal="least_effort", labeled_examples=0))
    assert rec.approach == "prompt"


def test_latency_with_static_knowledge_and_pairs_prefers_sft_over_rag():
    scenario = Scenario(
        knowledge="private", knowledge_changes="never", labeled_examples=2000, latency="strict"
    )
    rec = recommend(scenario)
    assert rec.rank_of("sft") < rec.rank_of("rag")


def test_training_forbidden_leaves_prompting_and_retrieval():
    rec = recommend(Scenario(training_allowed=False, knowledge="private"))
    assert rec.approach == "rag"
    for trained in ("sft", "full_ft", "sft+rag", "cpt", "scratch"):
        assert rec.verdict_of(trained).verdict == NOT_ADVISED
        assert "training-forbidden" in rec.verdict_of(trained).vetoed_by


@pytest.mark.parametrize("seed", range(30))
def test_verdict_invariants_on_random_scenarios(seed):
    rec = recommend(random_scenario(random.Random(seed)))
    verdicts = [v.verdict for v in rec.ranking]
    assert sorted(v.approach for v in rec.ranking) == sorted(APPROACHES)
    assert verdicts.count(RECOMMENDED) == 1 and verdicts[0] == RECOMMENDED
    assert not rec.top.vetoed_by
    for verdict in rec.ranking:
        if verdict.vetoed_by:
            assert verdict.verdict == NOT_ADVISED
        if verdict.verdict == VIABLE:
            assert verdict.score >= 0
    scores = [v.score for v in rec.ranking if not v.vetoed_by]
    assert scores == sorted(scores, reverse=True)


def test_ties_go_to_less_effort():
    flat = parse_rules({"prior": dict.fromkeys(APPROACHES, 0.0), "rules": []})
    # EFFORT also orders measured strategies that are no rules approach (full_ft+rag)
    assert recommend(Scenario(), rules=flat).order == tuple(a for a in EFFORT if a in APPROACHES)


def test_what_would_change_names_real_changes():
    rec = recommend(TONE_100)
    assert (
        "fewshot would be recommended instead if labeled examples: 12 (now 100)"
        in rec.top.would_change
    )
    assert "recommended if labeled examples: 12 (now 100)" in rec.verdict_of("fewshot").would_change
    # each suggestion really flips the verdict
    assert recommend(TONE_100.replace(labeled_examples=12)).approach == "fewshot"


def test_what_would_change_for_a_vetoed_approach_says_so():
    rec = recommend(Scenario(training_allowed=False, knowledge="private"))
    note = rec.verdict_of("full_ft").would_change
    assert note and "training-forbidden" in note[0]


def test_random_scenario_is_seeded_and_valid():
    first = random_scenario(random.Random(7))
    assert first == random_scenario(random.Random(7))
    assert 3 <= len(first.known()) <= 6 or first.known().get("base_model_exists") is True


# ---------------------------------------------------------------- a text's reading


def test_a_reading_adds_points_as_a_rule_a_reader_can_see():
    plain = recommend(TONE_100)
    read = recommend(TONE_100, reading={"sft": 0.5, "prompt": 0.05})
    gained = read.verdict_of("sft").score - plain.verdict_of("sft").score
    assert gained == pytest.approx(READING_WEIGHT * 0.5, abs=0.05)
    (rule,) = (r for r in read.verdict_of("sft").rules if r.id == READING_RULE)
    assert "p=0.50" in rule.rationale and label("sft") in rule.rationale
    # below the floor a reading adds nothing and says nothing
    assert read.verdict_of("prompt").score == plain.verdict_of("prompt").score
    assert READING_RULE not in {r.id for r in read.verdict_of("prompt").rules}
    assert READING_RULE not in {r.id for r in plain.verdict_of("sft").rules}


def test_a_confident_reading_can_change_the_top():
    assert recommend(TONE_100).approach == "sft"
    assert recommend(TONE_100, reading={"rag": 1.0}).approach == "rag"


def test_a_reading_never_lifts_a_veto():
    # new modality, no base model: the rules rule out everything that starts from one
    plain = recommend(NEW_MODALITY)
    vetoed = [a for a in APPROACHES if plain.verdict_of(a).verdict == NOT_ADVISED]
    assert "sft" in vetoed
    read = recommend(NEW_MODALITY, reading={"sft": 1.0})
    assert read.verdict_of("sft").verdict == NOT_ADVISED
    assert read.approach == plain.approach


def test_a_reading_of_unknown_labels_is_ignored():
    assert recommend(TONE_100, reading={"not-an-approach": 1.0}).order == recommend(TONE_100).order
