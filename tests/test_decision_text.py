"""Free text: reading a scenario, classifying answer options, choosing an option, and the
accuracy on our written scenario sets (guarding against regressions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.decision import choose_option, classify_option, parse_scenario_text
from advisor.decision.evaluation import evaluate, load_scenario_set

DATA = Path(__file__).parent / "data" / "decision"


def _facts(text: str) -> dict:
    return parse_scenario_text(text).scenario.known()


def test_the_issue_example_is_read():
    parsed = parse_scenario_text(
        "A company has 100 high-quality agent-customer conversations and wants its chatbot to adopt "
        "its tone."
    )
    assert parsed.scenario.labeled_examples == 100
    assert parsed.scenario.label_quality == "high"
    assert parsed.scenario.gaps == ("tone",)
    by_field = {u.field: u for u in parsed.understood}
    assert by_field["labeled_examples"].phrase == "100 high-quality agent-customer conversations"
    assert by_field["labeled_examples"].how == "number"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We have 12 examples of the JSON we want.", {"labeled_examples": 12, "gaps": ("format",)}),
        ("There are 2,500 labeled pairs.", {"labeled_examples": 2500}),
        ("They wrote eight model answers.", {"labeled_examples": 8}),
        ("Only 40 reports have been labeled.", {"labeled_examples": 40}),
        ("It has 20 GB of unlabeled research papers.", {"unlabeled_corpus": "large"}),
        ("About 3 billion tokens of filings.", {"unlabeled_corpus": "large"}),
        ("30 years of unlabeled well reports.", {"unlabeled_corpus": "large"}),  # not 30 reports
        ("We have no labeled data.", {"labeled_examples": 0}),
        ("Labeled data is scarce.", {"labeled_examples": 20}),
    ],
)
def test_amounts(text, expected):
    facts = _facts(text)
    assert {k: facts[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("Policies change every week.", "knowledge_changes", "weekly"),
        ("The handbook rarely changes.", "knowledge_changes", "never"),
        ("Prices change throughout the day.", "knowledge_changes", "realtime"),
        ("Answers must cite the source.", "citations", True),
        ("Data must not leave our data center.", "on_premises", True),
        ("We cannot modify the model's weights.", "training_allowed", False),
        ("No existing foundation model handles this data.", "base_model_exists", False),
        ("Which option needs the LEAST operational overhead?", "goal", "least_effort"),
        ("What is the MOST cost-effective solution?", "goal", "lowest_cost"),
        ("They need the lowest latency possible.", "goal", "lowest_latency"),
        ("Quality matters more than cost.", "goal", "best_quality"),
        ("We have a cluster of GPUs.", "compute", "cluster"),
        ("The team has one GPU.", "compute", "single_gpu"),
        ("We only use Amazon Bedrock.", "compute", "api_only"),
        ("The model must understand our internal reports.", "knowledge", "private"),
    ],
)
def test_keyword_cues(text, field, value):
    assert _facts(text).get(field) == value


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("The answers do not need citations.", "citations"),
        ("Adapt a model rather than build its own foundation model.", "base_model_exists"),
        ("They have 40 internal categories.", "knowledge"),
        ("Show today's prices.", "timeline"),
    ],
)
def test_negations_and_near_misses_are_not_read(text, field):
    assert field not in _facts(text)


@pytest.mark.parametrize(
    ("option", "approach"),
    [
        ("Fine-tune the model on the labeled examples", "sft"),
        ("Use Amazon Bedrock knowledge bases to retrieve documents at query time", "rag"),
        ("Write better instructions in the prompt", "prompt"),
        ("Continue pre-training on the unlabeled corpus", "cpt"),
        ("Build a new foundation model", "scratch"),
        ("Add a few example question-answer pairs to the prompt", "fewshot"),
        ("Fine-tune all of the model's weights", "full_ft"),
        ("Fine-tune the model and retrieve documents from a vector database", "sft+rag"),
        ("Train the model on the raw, unlabeled domain text", "cpt"),
        ("Continued pre-training on the knowledge base", "cpt"),
        ("Increase the temperature", None),
        ("Switch to a larger foundation model", None),
    ],
)
def test_classify_option_by_keywords(option, approach):
    assert classify_option(option) == approach


def test_choose_option_picks_the_top_approach():
    choice = choose_option(
        "An airline's FAQ changes weekly and answers must cite the page they came from.",
        {
            "A": "Fine-tune the model every week",
            "B": "Retrieve the FAQ pages at query time",
            "C": "Raise the temperature",
        },
    )
    assert (choice.letter, choice.approach) == ("B", "rag")
    assert choice.option_approaches == {"A": "sft", "B": "rag", "C": None}
    assert choice.recommendation.approach == "rag"


def test_choose_option_falls_back_to_the_best_ranked_offered_approach():
    choice = choose_option(
        "A company has 100 high-quality conversations and wants the model to adopt its tone.",
        {"A": "Write better instructions in the prompt", "B": "Train a model from scratch"},
    )
    assert choice.letter == "A" and choice.recommendation.approach == "sft"
    assert "not among the options" in " ".join(choice.reasons)


def test_no_classifiable_option():
    choice = choose_option("Anything.", {"A": "Raise the temperature", "B": "Lower top-p"})
    assert choice.letter is None and choice.approach is None


class FakeMatcher:
    """Stands in for MiniLM: says which reference is closest by a fixed table."""

    def __init__(self, best: str):
        self.best = best
        self.calls = 0

    def similarity(self, queries, references):
        self.calls += 1
        return [[0.9 if self.best in r else 0.1 for r in references] for _ in queries]


def test_matcher_is_used_only_where_keywords_fall_short():
    matcher = FakeMatcher("brand's voice")
    parsed = parse_scenario_text("Our replies should feel like us.", matcher)
    assert parsed.used_matcher and parsed.scenario.gaps == ("tone",)
    assert parsed.understood[-1].how.startswith("similarity")
    keyword = FakeMatcher("brand's voice")
    parse_scenario_text("The tone is wrong.", keyword)
    assert keyword.calls == 0


def test_option_matcher_fallback():
    assert (
        classify_option("Let the model look things up first", FakeMatcher("vector database"))
        == "rag"
    )
    assert classify_option("Let the model look things up first") is None


# ---------------------------------------------------------------- accuracy on our scenario sets
# Measured values (keywords only) are in docs/recommend.md; thresholds sit a little below them
# so a regression fails while a small rules change does not.


@pytest.mark.parametrize(
    ("name", "approach_min", "option_min"),
    [
        ("scenarios.yaml", 0.95, 0.95),  # the set the cues were tuned on: 100% / 100%
        ("scenarios_heldout.yaml", 0.90, 0.95),  # 95.8% / 100%
        ("scenarios_heldout2.yaml", 0.85, 0.90),  # 91.7% / 95.8%; 79.2% / 91.7% at first
    ],
)
def test_free_text_accuracy(name, approach_min, option_min):
    report = evaluate(load_scenario_set(DATA / name))
    assert report.approach_accuracy >= approach_min, [r.item.id for r in report.failures()]
    assert report.option_accuracy >= option_min, [r.item.id for r in report.failures()]


def test_scenario_sets_cover_every_approach():
    from advisor.decision import APPROACHES

    items = [
        i for n in ("scenarios.yaml", "scenarios_heldout.yaml") for i in load_scenario_set(DATA / n)
    ]
    assert len(items) >= 40
    assert {i.approach for i in items} == set(APPROACHES)
    for item in items:
        assert (
            item.answer in item.options
            and classify_option(item.options[item.answer]) == item.approach
        )


@pytest.mark.integration
def test_minilm_matcher_classifies_unworded_options():
    from advisor.decision.matcher import MiniLMMatcher

    matcher = MiniLMMatcher()
    assert (
        classify_option(
            "Search the standards at question time and give the passages to the model", matcher
        )
        == "rag"
    )
    assert (
        classify_option("Let the model look things up in our help center before answering", matcher)
        == "rag"
    )
    report = evaluate(load_scenario_set(DATA / "scenarios_heldout2.yaml"), matcher)
    assert report.option_accuracy >= 0.95
