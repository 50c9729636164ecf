"""Questions generated from the decision engine's own scenario space, so the bank never runs out.

A scenario is drawn with `random_scenario`, worded as an exam question, and
keyed with the engine's top approach; the distractors are approaches the engine
does not advise, so every generated question has one defensible answer. The
explanation is the engine's reasons. The same seed gives the same questions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from advisor.decision import SCENARIO_SPACE, Recommendation, Scenario, random_scenario, recommend
from advisor.decision.recommendation import NOT_ADVISED
from advisor.display import joined
from advisor.quiz.bank import LETTERS, Question

GENERATED_TOPIC = "generated"
MIN_MARGIN = 1.0  # points between the key and the runner-up: below this the question is a coin toss
MAX_TRIES = 200  # scenarios drawn per question before giving up

# How each approach reads as an answer option (two wordings each, chosen by the seed).
OPTION_TEXT: dict[str, tuple[str, ...]] = {
    "prompt": (
        "Use the base model as it is and write a clear prompt (prompt engineering).",
        "Prompt engineering: careful instructions to an existing model, no training.",
    ),
    "fewshot": (
        "Put a few labeled examples into the prompt (few-shot prompting).",
        "Few-shot prompting: show the model a handful of worked examples in each prompt.",
    ),
    "supervised": (
        "Train a small classifier (TF-IDF features, logistic regression) on the labeled examples.",
        "Supervised learning from scratch: a classic classifier trained only on the labels.",
    ),
    "embed": (
        "Train a linear classifier on sentence embeddings from a frozen pre-trained encoder.",
        "Embed each message with a frozen encoder and fit a small classifier on the labels.",
    ),
    "rag": (
        "Retrieval-augmented generation: index the documents; add relevant passages to prompts.",
        "Connect the model to a knowledge base and retrieve passages for each question (RAG).",
    ),
    "sft": (
        "Supervised fine-tuning (for example LoRA) on labeled input-output examples.",
        "Fine-tune the model with a LoRA adapter on curated examples of the task.",
    ),
    "full_ft": (
        "Full fine-tuning: update all of the model's weights on labeled examples of the task.",
        "Retrain every weight of the pre-trained model on curated examples (full fine-tuning).",
    ),
    "sft+rag": (
        "Fine-tune the model on examples of the task and also retrieve documents at answer time.",
        "Combine a LoRA fine-tune for behaviour with retrieval-augmented generation for the facts.",
    ),
    "cpt": (
        "Continue pre-training the model on the unlabeled domain text.",
        "Continued pre-training: further train the base model on the raw domain corpus.",
    ),
    "scratch": (
        "Train a new model from scratch.",
        "Pre-train a brand-new model from random initialisation on the team's data.",
    ),
    "distill": (
        "Distill the large model: train a small student model on the teacher's outputs.",
        "Knowledge distillation into a compact model that imitates the large one.",
    ),
    "preference": (
        "Preference tuning (RLHF or DPO) on the human comparisons of answers.",
        "Reinforcement fine-tuning with a reward model learned from human ratings.",
    ),
}

_CHANGES = {
    "never": "never changes",
    "yearly": "changes about once a year",
    "monthly": "changes every month",
    "weekly": "changes every week",
    "daily": "changes every day",
    "realtime": "changes in real time",
}

_GAPS = {
    "facts": "lacks the facts the answers need",
    "format": "gets the required output format wrong",
    "tone": "does not match the required tone of voice",
    "behaviour": "does not behave as required (for example when to refuse or escalate)",
    "task_skill": "is not good at the task itself",
    "vocabulary": "does not understand the domain's vocabulary",
    "modality": "cannot handle this kind of data at all: it is not the text it was trained on",
}

# One sentence per known fact: value -> text (a callable for the counted field).
_SENTENCES: dict[str, dict[Any, str] | Callable[[Any], str]] = {
    "labeled_examples": lambda n: (
        "It has no labeled examples."
        if n == 0
        else f"It has {n:,} labeled input-output examples of the task."
    ),
    "output": {
        "labels": "Each input must be assigned one label from a fixed set (routing or tagging).",
        "text": "The answers are free text.",
    },
    "label_quality": {
        "high": "The labeled examples are clean and consistent.",
        "mixed": "The labels are of mixed quality.",
        "low": "Many of the labels are noisy or inconsistent.",
    },
    "unlabeled_corpus": {
        "none": "It has no unlabeled domain text.",
        "small": "It has a small amount of unlabeled domain text, about a handbook's worth.",
        "medium": "It has a medium-sized unlabeled domain corpus of tens of millions of tokens.",
        "large": "It has a large unlabeled domain corpus of billions of tokens.",
        "massive": "It has a massive unlabeled corpus of tens of billions of tokens or more.",
    },
    "knowledge": {
        "none": "The answers need no special factual knowledge.",
        "public": "The answers need only public knowledge that a general model may already have.",
        "private": "The answers depend on the company's private, proprietary information.",
    },
    "knowledge_changes": {
        k: f"The information the answers rely on {v}." for k, v in _CHANGES.items()
    },
    "base_model_fit": {
        "close": "The base model is already close to good enough.",
        "partial": "The base model gets part of the way there.",
        "far": "The base model is far from what is needed.",
    },
    "base_model_exists": {
        True: "Suitable pre-trained models exist for this kind of data.",
        False: "No suitable pre-trained model exists for this kind of data.",
    },
    "compute": {
        "api_only": "It can only call a hosted model's API and has no training hardware.",
        "cpu": "It has only CPUs to train on.",
        "single_gpu": "It has a single GPU.",
        "multi_gpu": "It has a multi-GPU server.",
        "cluster": "It has a large GPU cluster.",
    },
    "budget": {
        "minimal": "Its budget is minimal.",
        "low": "Its budget is low.",
        "medium": "Its budget is moderate.",
        "high": "Its budget is high.",
        "vast": "Its budget is vast.",
    },
    "timeline": {
        "days": "It must ship within days.",
        "weeks": "It must ship within a few weeks.",
        "months": "It has a few months.",
        "long": "There is no rush: this is a long-term project.",
    },
    "latency": {
        "strict": "Responses must be very fast.",
        "normal": "Normal response times are fine.",
        "relaxed": "Response time is not a concern.",
    },
    "token_budget": {
        "tight": "Prompt tokens per request are tightly limited: long prompts are too expensive.",
        "normal": "Prompt length is within normal limits.",
        "generous": "Long prompts are affordable.",
    },
    "teacher": {
        True: "A large model already does the task well, and its outputs may be used for training.",
        False: "No model does the task well yet.",
    },
    "preference_data": {
        True: "Reviewers have rated or compared thousands of the model's answers.",
        False: "There are no human ratings of answers.",
    },
    "deployment": {
        "cloud": "It will run on the company's servers.",
        "on_device": "It must run on the customer's device, offline.",
    },
    "citations": {
        True: "Every answer must cite its sources for auditing.",
        False: "Answers do not need to cite sources.",
    },
    "on_premises": {
        True: "The data must not leave the company's premises.",
        False: "The data may be sent to a hosted service.",
    },
    "training_allowed": {
        True: "The team is allowed to train and change the model's weights.",
        False: "The team may not change the model's weights.",
    },
}

_QUESTIONS = {
    "least_effort": "Which approach meets these needs with the LEAST effort?",
    "lowest_cost": "Which approach is the MOST cost-effective?",
    "best_quality": "Quality matters most. Which approach should the team choose?",
    "lowest_latency": "Speed matters most. Which approach should the team choose?",
}


def generate_questions(n: int, seed: int) -> list[Question]:
    """`n` questions keyed by the engine; the same `seed` always gives the same questions."""
    rng = random.Random(seed)
    return [generate_question(rng, question_id=f"gen-{seed}-{i + 1}") for i in range(n)]


def generate_question(rng: random.Random, question_id: str) -> Question:
    """One question on a clear-cut scenario, worded from its facts."""
    scenario, recommendation, distractors = draw_clear_scenario(rng)
    return _word(scenario, recommendation, distractors, rng, question_id)


def draw_clear_scenario(rng: random.Random) -> tuple[Scenario, Recommendation, list[str]]:
    """A scenario whose answer is clear: the engine's top approach leads the runner-up by
    `MIN_MARGIN` points and at least three approaches are not advised (the distractors)."""
    for _ in range(MAX_TRIES):
        scenario = coherent(random_scenario(rng))
        recommendation = recommend(scenario)
        distractors = _clear_distractors(recommendation)
        if _margin(recommendation) >= MIN_MARGIN and len(distractors) >= 3:
            return scenario, recommendation, rng.sample(distractors, 3)
    # Reaching this means the rules rarely give a clear answer: a bug there, not bad input.
    raise RuntimeError(f"no clear-cut scenario in {MAX_TRIES} draws")


def coherent(scenario: Scenario) -> Scenario:
    """Drop facts that contradict others: label quality without labels, a change rate for
    knowledge that is not needed, a base model \"nearly there\" on data it cannot handle."""
    changes: dict[str, Any] = {}
    if scenario.label_quality != "unknown" and not scenario.labeled_examples:
        changes["label_quality"] = "unknown"
    if scenario.knowledge == "none" and scenario.knowledge_changes != "unknown":
        changes["knowledge_changes"] = "unknown"
    unusable = "modality" in scenario.gaps or not scenario.base_model_exists
    if unusable and scenario.base_model_fit in ("close", "partial"):
        changes["base_model_fit"] = "unknown"
    return scenario.replace(**changes) if changes else scenario


def describe_scenario(scenario: Scenario) -> str:
    """The scenario's known facts as exam-style sentences, ending in the question."""
    sentences = ["A team is adapting a language model for a product."]
    for name in SCENARIO_SPACE:
        value = getattr(scenario, name)
        if name == "gaps":
            if value:
                sentences.append(f"Today the base model {joined([_GAPS[g] for g in value])}.")
            continue
        if name not in scenario.known() or name not in _SENTENCES:
            continue
        wording = _SENTENCES[name]
        sentences.append(wording(value) if callable(wording) else wording[value])
    sentences.append(_QUESTIONS.get(scenario.goal, "Which approach fits best?"))
    return " ".join(sentences)


def _margin(recommendation: Recommendation) -> float:
    top, *rest = recommendation.ranking
    rivals = [v.score for v in rest if not v.vetoed_by]
    return top.score - max(rivals, default=float("-inf"))


def _clear_distractors(recommendation: Recommendation) -> list[str]:
    return [v.approach for v in recommendation.ranking[1:] if v.verdict == NOT_ADVISED]


def _word(
    scenario: Scenario,
    recommendation: Recommendation,
    distractors: list[str],
    rng: random.Random,
    question_id: str,
) -> Question:
    approaches = [recommendation.approach, *distractors]
    rng.shuffle(approaches)
    letters = LETTERS[: len(approaches)]
    return Question(
        id=question_id,
        scenario=describe_scenario(scenario),
        options={
            letter: rng.choice(OPTION_TEXT[a])
            for letter, a in zip(letters, approaches, strict=True)
        },
        answer=letters[approaches.index(recommendation.approach)],
        explanation=_explain(recommendation, distractors),
        topic=GENERATED_TOPIC,
        difficulty="generated",
        option_approaches=dict(zip(letters, approaches, strict=True)),
        source="generated",
    )


def _explain(recommendation: Recommendation, distractors: list[str]) -> str:
    """The key's strongest reasons, then why each distractor is not advised (each reason once)."""
    top = recommendation.top
    strong = [
        rule.rationale
        for rule in top.for_
        if not isinstance(rule.effect, str) and rule.effect >= 1.0
    ]
    lines = [f"{top.label}: " + " ".join(strong[:2] or [top.headline_reason])]
    against: dict[str, list[str]] = {}
    for approach in distractors:
        verdict = recommendation.verdict_of(approach)
        if verdict.against:
            against.setdefault(verdict.against[0].rationale, []).append(verdict.label)
    for rationale, labels in against.items():
        lines.append(
            f"{joined(labels)} {'is' if len(labels) == 1 else 'are'} not advised: {rationale}"
        )
    return "\n".join(lines)
