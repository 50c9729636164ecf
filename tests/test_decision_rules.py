"""Every rule in rules.yaml has a scenario that fires it and a near miss that does not,
and the rules file itself is checked on load."""

from __future__ import annotations

import pytest

from advisor.decision.approaches import APPROACHES
from advisor.decision.engine import score_scenario
from advisor.decision.rules import load_rules, parse_rules
from advisor.decision.scenario import Scenario
from advisor.errors import ScenarioError

# rule id → (fields of a scenario that fires it, fields of a near miss that does not)
RULE_CASES: dict[str, tuple[dict, dict]] = {
    "labels-with-examples": (
        {"output": "labels", "labeled_examples": 100},
        {"output": "labels", "labeled_examples": 99},
    ),
    "labels-few-examples": (
        {"output": "labels", "labeled_examples": 99},
        {"output": "text", "labeled_examples": 99},
    ),
    "labels-cheap-to-serve": (
        {"output": "labels", "labeled_examples": 100, "compute": "cpu"},
        {"output": "labels", "labeled_examples": 100, "compute": "single_gpu"},
    ),
    "free-text-output": ({"output": "text"}, {"output": "labels"}),
    "teacher-available": ({"teacher": True}, {"teacher": False}),
    "teacher-too-slow-or-costly": (
        {"teacher": True, "latency": "strict"},
        {"teacher": True, "latency": "normal"},
    ),
    "on-device": ({"deployment": "on_device"}, {"deployment": "cloud"}),
    "preference-data": ({"preference_data": True}, {"preference_data": False}),
    "knowledge-gap": ({"knowledge": "private"}, {"knowledge": "public"}),
    "no-knowledge-needed": ({"knowledge": "public"}, {"knowledge": "public", "gaps": ("facts",)}),
    "changing-knowledge": ({"knowledge_changes": "monthly"}, {"knowledge_changes": "yearly"}),
    "static-knowledge": (
        {"knowledge_changes": "yearly", "knowledge": "private"},
        {"knowledge_changes": "yearly", "knowledge": "public"},
    ),
    "citations": ({"citations": True}, {"citations": False}),
    "behaviour-with-examples": (
        {"gaps": ("tone",), "labeled_examples": 100},
        {"gaps": ("tone",), "labeled_examples": 100, "label_quality": "low"},
    ),
    "behaviour-with-some-examples": (
        {"gaps": ("format",), "labeled_examples": 50},
        {"gaps": ("format",), "labeled_examples": 100},
    ),
    "too-few-examples": ({"labeled_examples": 49}, {"labeled_examples": 50}),
    "no-examples": ({"labeled_examples": 0}, {"labeled_examples": 1}),
    "plenty-of-examples": ({"labeled_examples": 1000}, {"labeled_examples": 999}),
    "many-examples": ({"labeled_examples": 10_000}, {"labeled_examples": 9_999}),
    "full-fine-tuning-for-quality": (
        {"labeled_examples": 10_000, "compute": "multi_gpu", "goal": "best_quality"},
        {"labeled_examples": 10_000, "compute": "single_gpu", "goal": "best_quality"},
    ),
    "low-quality-labels": ({"label_quality": "low"}, {"label_quality": "mixed"}),
    "domain-vocabulary-corpus": (
        {"gaps": ("vocabulary",), "unlabeled_corpus": "medium"},
        {"gaps": ("vocabulary",), "unlabeled_corpus": "small"},
    ),
    "large-unlabeled-corpus": ({"unlabeled_corpus": "large"}, {"unlabeled_corpus": "medium"}),
    "small-corpus": ({"unlabeled_corpus": "small"}, {"unlabeled_corpus": "medium"}),
    "vocabulary-from-examples": (
        {"gaps": ("vocabulary",), "unlabeled_corpus": "none", "labeled_examples": 100},
        {"gaps": ("vocabulary",), "unlabeled_corpus": "large", "labeled_examples": 100},
    ),
    "base-model-close": ({"base_model_fit": "close"}, {"base_model_fit": "partial"}),
    "base-model-far": ({"base_model_fit": "far"}, {"base_model_fit": "partial"}),
    "new-modality": ({"gaps": ("modality",)}, {"gaps": ("vocabulary",)}),
    "no-base-model": ({"base_model_exists": False}, {"base_model_exists": True}),
    "transfer-over-scratch": ({"base_model_exists": True}, {"base_model_exists": False}),
    "scratch-needs-cluster": ({"compute": "single_gpu"}, {"compute": "multi_gpu"}),
    "scratch-needs-budget": ({"budget": "medium"}, {"budget": "high"}),
    "scratch-needs-data": ({"unlabeled_corpus": "medium"}, {"unlabeled_corpus": "large"}),
    "vast-resources": (
        {"compute": "cluster", "budget": "vast"},
        {"compute": "multi_gpu", "budget": "vast"},
    ),
    "api-only": ({"compute": "api_only"}, {"compute": "cpu"}),
    "cpu-only": ({"compute": "cpu"}, {"compute": "single_gpu"}),
    "single-gpu": ({"compute": "single_gpu"}, {"compute": "multi_gpu"}),
    "multi-gpu": ({"compute": "cluster"}, {"compute": "single_gpu"}),
    "training-forbidden": ({"training_allowed": False}, {"training_allowed": True}),
    "on-premises": (
        {"on_premises": True, "compute": "cpu"},
        {"on_premises": True, "compute": "multi_gpu"},
    ),
    "least-effort": ({"goal": "least_effort"}, {"goal": "lowest_cost"}),
    "lowest-cost": ({"goal": "lowest_cost"}, {"goal": "least_effort"}),
    "small-budget": ({"budget": "low"}, {"budget": "medium"}),
    "short-timeline": ({"timeline": "days"}, {"timeline": "weeks"}),
    "best-quality": ({"goal": "best_quality"}, {"goal": "balanced"}),
    "short-prompts-static-knowledge": (
        {"token_budget": "tight", "knowledge_changes": "never", "labeled_examples": 100},
        {"token_budget": "tight", "knowledge_changes": "weekly", "labeled_examples": 100},
    ),
    "long-prompts-cost": ({"latency": "strict"}, {"latency": "normal"}),
    "knowledge-and-behaviour": (
        {"knowledge": "private", "gaps": ("tone",), "labeled_examples": 100},
        {"knowledge": "private", "gaps": ("tone",), "labeled_examples": 99},
    ),
    "knowledge-and-behaviour-with-thousands": (
        {"citations": True, "gaps": ("format",), "labeled_examples": 1000},
        {"citations": True, "gaps": ("format",), "labeled_examples": 999},
    ),
}


# Further branches of rules whose condition has an `any`: (rule id, scenario, fires?).
BRANCH_CASES = [
    ("knowledge-gap", {"gaps": ("facts",)}, True),
    ("knowledge-gap", {"gaps": ("facts",), "knowledge": "none"}, False),  # already in the prompt
    ("no-knowledge-needed", {"knowledge": "none", "gaps": ("facts",)}, True),
    ("no-knowledge-needed", {"knowledge": "private"}, False),
    (
        "knowledge-and-behaviour",
        {"citations": True, "gaps": ("format",), "labeled_examples": 100},
        True,
    ),
    (
        "knowledge-and-behaviour",
        {"knowledge_changes": "weekly", "gaps": ("behaviour",), "labeled_examples": 100},
        True,
    ),
    (
        "knowledge-and-behaviour",
        {"knowledge_changes": "yearly", "gaps": ("behaviour",), "labeled_examples": 100},
        False,
    ),
    (
        "behaviour-with-examples",
        {"output": "labels", "gaps": ("task_skill",), "labeled_examples": 500},
        False,  # a labeling task's skill is weighed by the labels rules
    ),
    (
        "labels-cheap-to-serve",
        {"output": "labels", "labeled_examples": 500, "latency": "strict"},
        True,
    ),
    ("labels-cheap-to-serve", {"output": "text", "labeled_examples": 500, "compute": "cpu"}, False),
]


@pytest.mark.parametrize(("rule_id", "fields", "fires"), BRANCH_CASES)
def test_rule_branches(rule_id, fields, fires):
    assert (rule_id in score_scenario(Scenario(**fields)).fired_ids) is fires


def test_every_rule_has_cases():
    """A new rule must come with a scenario that fires it and one that does not."""
    assert set(RULE_CASES) == {r.id for r in load_rules().rules}


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_fires_and_near_miss_does_not(rule_id):
    fires, misses = RULE_CASES[rule_id]
    assert rule_id in score_scenario(Scenario(**fires)).fired_ids
    assert rule_id not in score_scenario(Scenario(**misses)).fired_ids


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_fired_rule_moves_the_scores_it_names(rule_id):
    """Firing a rule changes exactly the approaches it lists, by its points (or a veto)."""
    rule = load_rules().by_id(rule_id)
    scored = score_scenario(Scenario(**RULE_CASES[rule_id][0]))
    for approach, effect in rule.effects.items():
        entries = [r for r in scored.fired[approach] if r.id == rule_id]
        assert len(entries) == 1 and entries[0].effect == effect
        if effect == "veto":
            assert approach in scored.vetoed


def test_rules_on_unknown_fields_do_not_fire():
    """Nothing known: only the rule about the default (a base model exists) fires."""
    assert score_scenario(Scenario()).fired_ids == ("transfer-over-scratch",)


def test_every_rule_has_a_rationale_sentence():
    for rule in load_rules().rules:
        assert rule.rationale.endswith(".") and len(rule.rationale.split()) >= 6, rule.id


def _rules_with(rule: dict) -> dict:
    prior = dict.fromkeys(APPROACHES, 0.0)
    return {"prior": prior, "rules": [rule]}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"id": "x", "when": {"labled_examples": 3}, "effects": {}, "rationale": "r"},
            "unknown scenario field",
        ),
        (
            {"id": "x", "when": {"compute": "tpu"}, "effects": {}, "rationale": "r"},
            "expected one of",
        ),
        (
            {"id": "x", "when": {"citations": True}, "effects": {"lora": 1}, "rationale": "r"},
            "unknown approach",
        ),
        (
            {"id": "x", "when": {"citations": True}, "effects": {"sft": "lots"}, "rationale": "r"},
            "points or veto",
        ),
        (
            {"id": "x", "when": {"citations": True}, "effects": {}, "rationale": " "},
            "needs a rationale",
        ),
        (
            {
                "id": "x",
                "when": {"labeled_examples": {"about": 3}},
                "effects": {},
                "rationale": "r",
            },
            "unknown operator",
        ),
    ],
)
def test_bad_rules_are_refused(rule, message):
    with pytest.raises(ScenarioError, match=message):
        parse_rules(_rules_with(rule))


def test_prior_must_cover_every_approach():
    with pytest.raises(ScenarioError, match="prior must score every approach"):
        parse_rules({"prior": {"prompt": 1.0}, "rules": []})
