"""The approaches the engine ranks, their human names, and what each one costs to adopt.

`EFFORT` orders approaches from least to most effort and money to build and keep
running (no training < an index to maintain < a trained adapter < heavy
training). It breaks ties in the rules ranking and defines "cheapest" when a
benchmark run is the evidence, so it lives in one place.
"""

from __future__ import annotations

APPROACHES: tuple[str, ...] = (
    "prompt",
    "fewshot",
    "supervised",
    "embed",
    "rag",
    "sft",
    "full_ft",
    "sft+rag",
    "cpt",
    "scratch",
    "distill",
    "preference",
)

APPROACH_LABELS: dict[str, str] = {
    "prompt": "Prompt engineering",
    "fewshot": "Few-shot prompting",
    "supervised": "Supervised classifier (TF-IDF, trained from scratch)",
    "embed": "Classifier on frozen sentence embeddings",
    "rag": "Retrieval-augmented generation (RAG)",
    "sft": "Supervised fine-tuning (LoRA)",
    "full_ft": "Full fine-tuning",
    "full_ft+rag": "RAG + full fine-tuning",
    "sft+rag": "RAG + fine-tuning",
    "cpt": "Continued pre-training",
    "scratch": "Training from scratch",
    "distill": "Distillation (a small student trained on a large teacher)",
    "preference": "Preference tuning (RLHF, DPO, reinforcement fine-tuning)",
}

# Least effort first: what a team has to build, pay for and maintain.
EFFORT: tuple[str, ...] = (
    "prompt",
    "fewshot",
    "supervised",
    "embed",
    "rag",
    "sft",
    "sft+rag",
    "distill",
    "preference",
    "cpt",
    "full_ft",
    "full_ft+rag",
    "scratch",
)

EFFORT_NOTES: dict[str, str] = {
    "prompt": "no training, nothing to maintain but the prompt",
    "fewshot": "no training; a handful of examples in every prompt",
    "supervised": "a small classifier trained in seconds on a CPU; nearly free to serve",
    "embed": "a linear layer on a frozen encoder: seconds to train, an embedding per query",
    "rag": "no training; an index of the documents to keep current",
    "sft": "a LoRA adapter to train (hours) and retrain when behaviour must change",
    "sft+rag": "an adapter to train and an index to keep current",
    "cpt": "self-supervised training on the raw corpus (GPU days)",
    "full_ft": "every weight retrained: several GPUs and a copy of the model per version",
    "full_ft+rag": "a whole model to retrain and an index to keep current",
    "scratch": "a new model: a cluster, a huge corpus and months",
    "distill": "a teacher's outputs to collect and a student model to train and serve",
    "preference": "preference data (comparisons, ratings or a grader) and a reward-driven training run",
}

# Sentences that describe each approach, for matching free-worded answer options
# by embedding similarity when no keyword decides.
APPROACH_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "prompt": (
        "Rewrite the instructions in the prompt.",
        "Use prompt engineering: tell the model in the system prompt how to answer.",
        "Change the wording of the request to the model.",
        "Give the model clearer rules and a persona in its instructions.",
    ),
    "fewshot": (
        "Include a few example questions and answers in the prompt.",
        "Show the model sample inputs and outputs in the prompt (few-shot prompting).",
        "Give the model examples to imitate inside its prompt.",
    ),
    "supervised": (
        "Train a simple classifier such as logistic regression or an SVM on the labeled examples.",
        "Use a traditional machine-learning model trained from scratch on the labeled data.",
    ),
    "embed": (
        "Train a linear classifier on sentence embeddings from a frozen pre-trained encoder.",
        "Use embeddings of each message as features for a small classifier.",
    ),
    "rag": (
        "Retrieve relevant documents at query time and add them to the prompt.",
        "Search the knowledge base for each question and pass the passages to the model.",
        "Store the documents in a vector database and ground answers in them.",
        "Let the model look up the information before it answers.",
    ),
    "sft": (
        "Fine-tune the model on labeled input-output examples.",
        "Train the model on prompt-completion pairs so it learns the task.",
        "Customize the model with supervised training on curated examples.",
    ),
    "full_ft": (
        "Update all of the model's weights with full fine-tuning on a large labeled dataset.",
        "Retrain every parameter of the model on the labeled data.",
    ),
    "sft+rag": (
        "Fine-tune the model and also retrieve documents at query time.",
        "Combine a fine-tuned model with retrieval-augmented generation.",
    ),
    "cpt": (
        "Continue pre-training the model on a large unlabeled domain corpus.",
        "Further train the base model on raw domain text so it learns the vocabulary.",
    ),
    "scratch": (
        "Build and pre-train a new foundation model from scratch.",
        "Train a brand-new model from random initialization on a massive dataset.",
        "Create an entirely new model of our own from nothing.",
    ),
    "distill": (
        "Distill the large model into a smaller student model trained on its outputs.",
        "Train a compact model to imitate the large teacher model's answers.",
    ),
    "preference": (
        "Tune the model on human preference comparisons with RLHF or DPO.",
        "Use reinforcement learning from human feedback with a reward model.",
        "Reinforcement fine-tuning with a grader that scores each answer.",
    ),
}

# Benchmark strategy names are the approach names (the classifiers only on
# classification tasks). A strategy that combines an approach with retrieval
# and has no rules of its own is judged by the rules of the approach it builds
# on (`RULED_AS`): whatever vetoes full fine-tuning vetoes it with retrieval too.
MEASURABLE: frozenset[str] = frozenset(
    {
        "prompt",
        "fewshot",
        "rag",
        "sft",
        "sft+rag",
        "full_ft",
        "full_ft+rag",
        "cpt",
        "scratch",
        "supervised",
        "embed",
    }
)
RULED_AS: dict[str, str] = {"full_ft+rag": "full_ft"}


def base_strategy(name: str) -> str:
    """A swept variant's strategy: `sft(sft.lora.r=8)` → `sft` (others unchanged)."""
    return name.split("(", 1)[0] if name.endswith(")") else name


def rules_approach(strategy: str) -> str:
    """The approach whose rules judge a measured strategy (itself, for most; a
    swept variant is judged as its strategy)."""
    strategy = base_strategy(strategy)
    return RULED_AS.get(strategy, strategy)


def label(approach: str) -> str:
    """The human name of an approach (or the name itself for an unknown strategy;
    a swept variant is its strategy's name and the variant's settings)."""
    base = base_strategy(approach)
    if base != approach and base in APPROACH_LABELS:
        return f"{APPROACH_LABELS[base]}, {approach[len(base) + 1 : -1]}"
    return APPROACH_LABELS.get(approach, approach)


def effort_rank(approach: str) -> int:
    """Position in `EFFORT`; unknown strategies sort last, variants as their strategy."""
    approach = base_strategy(approach)
    return EFFORT.index(approach) if approach in EFFORT else len(EFFORT)
