"""The learned reader on the kinds of wording the keyword engine misread at first reading
(issue #11's list), each kind in several phrasings of our own, so a test fails when the
general ability is lost, not when one sentence changes. Integration tier: the real MiniLM
and the reader trained on the shipped corpus (fitted once per cache, a few minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data" / "decision"

CPT = "Continue pre-training the model on the unlabeled documents, then fine-tune later."
RAG = "Index the documents and retrieve the relevant passages into each prompt."
SFT = "Fine-tune the model with LoRA on the labeled pairs."
PROMPT = "Rewrite the system prompt with clearer instructions."
FEWSHOT = "Add a few more worked examples to the prompt."
SCRATCH = "Pre-train a new model from scratch on the company's data."
FULL = "Update every weight of the model with full fine-tuning."
DISTILL = "Distill the large model into a small student model trained on its outputs."
PREFERENCE = "Tune the model on the human comparisons with RLHF or DPO."
SUPERVISED = "Train a TF-IDF and logistic-regression classifier on the labeled messages."
SFT_RAG = "Fine-tune for the required structure and retrieve the current figures at query time."

CASES = {
    "negation": [
        (
            "A utility has 8 GB of unlabeled inspection reports full of equipment codes the model "
            "misreads. It has no labeled question-answer pairs at all. What should it do first?",
            {"A": SFT, "B": CPT, "C": FEWSHOT, "D": SCRATCH},
            "B",
        ),
        (
            "Nobody at the agency has annotated anything, but it holds twenty years of raw case "
            "notes written in its own abbreviations. The model misunderstands them. Which step fits?",
            {"A": CPT, "B": SFT, "C": PROMPT, "D": FULL},
            "A",
        ),
        (
            "There are no labeled examples of the task, and the answers must quote the firm's "
            "policy manuals, which the model has never seen. Which approach fits?",
            {"A": SFT, "B": FULL, "C": RAG, "D": SCRATCH},
            "C",
        ),
    ],
    "counts bound to their own noun": [
        (
            "A helpdesk pastes 40 worked examples into today's prompt, which is slow and costly at "
            "3 million tickets a month. It also has 20,000 human-verified ticket-label pairs and a GPU.",
            {"A": FEWSHOT, "B": SFT, "C": SCRATCH, "D": RAG},
            "B",
        ),
        (
            "After five rounds of prompt rewrites the model still ignores the report layout. The team "
            "holds 6,000 approved reports written in that layout. What next?",
            {"A": PROMPT, "B": FEWSHOT, "C": SFT, "D": CPT},
            "C",
        ),
        (
            "The prompt shows 25 example replies on every call; the team owns 15,000 reviewed replies "
            "in the house tone and must cut the prompt's length. Which approach?",
            {"A": SFT, "B": FEWSHOT, "C": RAG, "D": SCRATCH},
            "A",
        ),
    ],
    "change over time": [
        (
            "Tariffs change rapidly, several times a week, and the assistant must quote the current "
            "one. Which approach keeps answers right without retraining?",
            {"A": FULL, "B": SFT, "C": RAG, "D": CPT},
            "C",
        ),
        (
            "A research assistant must stay current by regularly training on the newest unlabeled "
            "papers in its field, whose vocabulary keeps moving. Which approach is this?",
            {"A": FEWSHOT, "B": CPT, "C": PROMPT, "D": SUPERVISED},
            "B",
        ),
        (
            "Stock levels are updated every few minutes and answers must reflect them.",
            {"A": SFT, "B": RAG, "C": SCRATCH, "D": FULL},
            "B",
        ),
    ],
    "unlabeled corpora and least overhead": [
        (
            "A standards body has a large, unlabeled collection of standards and papers; its model "
            "trips on the terminology. With the least operational overhead over the next year, what "
            "gives the model the field's language?",
            {"A": PROMPT, "B": FEWSHOT, "C": CPT, "D": SCRATCH},
            "C",
        ),
        (
            "Tens of thousands of raw maintenance reports are the only data; the jargon is the "
            "problem, and later tasks will be fine-tuned on top.",
            {"A": SFT, "B": CPT, "C": RAG, "D": FEWSHOT},
            "B",
        ),
    ],
    "the cost of long context": [
        (
            "A stable FAQ is answered by retrieving 3,000 tokens of context per question, which "
            "breaks a strict 200 ms latency budget. The facts have not changed in years, and there "
            "are 2,000 labeled question-answer pairs and a GPU.",
            {"A": RAG, "B": SFT, "C": FEWSHOT, "D": PROMPT},
            "B",
        ),
        (
            "Every request carries 40 worked examples at 2 million requests a month, and the bill is "
            "dominated by prompt tokens. 8,000 labeled examples are available.",
            {"A": FEWSHOT, "B": PROMPT, "C": SFT, "D": RAG},
            "C",
        ),
    ],
    "options that combine or misapply": [
        (
            "Discharge letters must follow a fixed structure that prompting does not keep, and they "
            "must cite the drug formulary, which changes monthly. 5,000 approved letters exist.",
            {"A": SFT, "B": RAG, "C": SFT_RAG, "D": CPT},
            "C",
        ),
        (
            "A manufacturer has 50 GB of unlabeled service manuals and no labeled pairs; the model "
            "misreads part codes.",
            {
                "A": "Supervised fine-tuning directly on the raw manuals.",
                "B": CPT,
                "C": FEWSHOT,
                "D": SCRATCH,
            },
            "B",
        ),
    ],
    "approaches beyond the first eight": [
        (
            "A 70B model already extracts fields from invoices accurately, but it is too slow and "
            "costly for 10 million invoices a month; its outputs may be used for training.",
            {"A": PROMPT, "B": DISTILL, "C": RAG, "D": SCRATCH},
            "B",
        ),
        (
            "The assistant's answers are correct, and reviewers have compared 12,000 pairs of its "
            "replies, marking the better one. The team wants replies people prefer.",
            {"A": CPT, "B": RAG, "C": PREFERENCE, "D": FEWSHOT},
            "C",
        ),
        (
            "A software vendor serves 300 customers, each wanting answers in its own style from a "
            "few thousand examples, on one GPU fleet.",
            {
                "A": "Train one LoRA adapter per customer on a shared base model.",
                "B": SCRATCH,
                "C": FULL,
                "D": RAG,
            },
            "A",
        ),
        (
            "A lab's data is a new kind of sensor signal no language model or tokenizer handles, and "
            "it has a large GPU budget and petabytes of recordings.",
            {"A": CPT, "B": SFT, "C": SCRATCH, "D": RAG},
            "C",
        ),
        (
            "A bank routes chat messages to 30 intents with 40,000 consistent labels and a 5 ms "
            "budget on CPUs.",
            {"A": SFT, "B": SUPERVISED, "C": PROMPT, "D": CPT},
            "B",
        ),
    ],
    "concepts one step beside the decision": [
        (
            "Which statement separates supervised fine-tuning from supervised learning?",
            {
                "A": "Supervised learning needs no labels.",
                "B": "Supervised fine-tuning adapts a pre-trained model with a smaller labeled set; "
                "supervised learning trains a model from scratch on a fully labeled set.",
                "C": "Supervised fine-tuning trains from random weights.",
                "D": "They are two names for the same thing.",
            },
            "B",
        ),
        (
            "What does LoRA change when it adapts a foundation model?",
            {
                "A": "Every weight of the model.",
                "B": "Only the prompt.",
                "C": "Small low-rank matrices added beside frozen weights.",
                "D": "The tokenizer's vocabulary.",
            },
            "C",
        ),
        (
            "Which scope of the generative-AI security scoping ladder leaves the customer the most "
            "security responsibility?",
            {
                "A": "A consumer app",
                "B": "An enterprise app",
                "C": "A fine-tuned model",
                "D": "A self-trained model",
            },
            "D",
        ),
        (
            "A company wants to serve its custom fine-tuned model on a managed service. Which "
            "throughput option does that usually require?",
            {
                "A": "On-demand throughput",
                "B": "Provisioned throughput",
                "C": "Batch inference",
                "D": "Chain-of-thought prompting",
            },
            "B",
        ),
        (
            "Which technique gives a base model the ability to follow instructions across a "
            "multi-turn chat?",
            {
                "A": "Instruction fine-tuning",
                "B": "Unsupervised learning",
                "C": "Batch learning",
                "D": "Knowledge distillation",
            },
            "A",
        ),
    ],
}


@pytest.fixture(scope="module")
def reader():
    from advisor.decision.reader import load_reader

    return load_reader()


def _misses(reader, cases):
    chosen = [(stem, reader.choose(stem, options).letter, key) for stem, options, key in cases]
    return [(stem[:60], letter, key) for stem, letter, key in chosen if letter != key]


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_of_wording_is_read(kind, reader):
    """At most one phrasing of a kind may be missed (a reader is statistical); two mean the
    kind is not read. Known miss: "five rounds of prompt rewrites ... 6,000 approved
    reports" is read as few-shot."""
    missed = _misses(reader, CASES[kind])
    assert len(missed) <= 1, missed


def test_the_phrasings_together(reader):
    cases = [case for kind in CASES.values() for case in kind]
    missed = _misses(reader, cases)
    assert len(missed) / len(cases) <= 0.05, missed


def test_the_reader_on_the_keyword_engines_scenario_sets(reader):
    """Sets the reader never trained on (the keyword engine's development and held-out sets)."""
    from advisor.decision.evaluation import load_scenario_set

    items = [i for path in sorted(DATA.glob("scenarios*.yaml")) for i in load_scenario_set(path)]
    right = sum(reader.choose(i.text, i.options).letter == i.answer for i in items)
    assert right / len(items) >= 0.9, (right, len(items))
