"""Strategy registry: name → lazily imported class.

Importing a strategy module pulls in torch, transformers, faiss... so the
registry holds `"module:Class"` strings and imports on first use. `advisor --help`
never touches them.
"""

from __future__ import annotations

import difflib
import importlib

from advisor.errors import ConfigError

REGISTRY: dict[str, str] = {
    "prompt": "strategies.prompting:PromptStrategy",
    "fewshot": "strategies.prompting:FewshotStrategy",
    "rag": "strategies.rag:RagStrategy",
    "sft": "strategies.sft:SftStrategy",
    "cpt": "strategies.cpt:CptStrategy",
    "sft+rag": "strategies.sft:SftRagStrategy",
    "full_ft": "strategies.full_ft:FullFtStrategy",
    "full_ft+rag": "strategies.full_ft:FullFtRagStrategy",
    "scratch": "strategies.scratch:ScratchStrategy",
    "supervised": "strategies.classifiers:SupervisedStrategy",
    "embed": "strategies.classifiers:EmbedStrategy",
}

DESCRIPTIONS: dict[str, str] = {
    "prompt": "zero-shot with the task's system prompt",
    "fewshot": "k labeled examples in the prompt",
    "rag": "top-k corpus passages (FAISS over MiniLM embeddings) in the prompt, with citations",
    "sft": "LoRA fine-tuning on train.jsonl, loss on the answer tokens only",
    "cpt": "continued pre-training: LoRA on the raw corpus text, answering without retrieval",
    "sft+rag": "the SFT adapter answering with retrieved passages",
    "full_ft": "full fine-tuning: every weight trained on train.jsonl (same data, mask and "
    "schedule as sft)",
    "full_ft+rag": "the fully fine-tuned model answering with retrieved passages",
    "scratch": "a small transformer trained from random init on the same data",
    "supervised": "classification only: TF-IDF features and a linear classifier trained on "
    "the labeled examples alone (supervised learning from scratch)",
    "embed": "classification only: a linear classifier on frozen sentence embeddings "
    "(transfer learning without touching the generator)",
}

# The config sections each strategy's behaviour depends on, beyond `model` (which
# every strategy reads): a swept setting runs again only the strategies that read
# it. A strategy missing here (a plugin) is taken to read every section.
READS: dict[str, tuple[str, ...]] = {
    "prompt": ("generation", "classification"),
    "fewshot": ("generation", "classification", "fewshot"),
    "rag": ("generation", "classification", "rag"),
    "sft": ("generation", "classification", "sft", "rag"),
    "sft+rag": ("generation", "classification", "sft", "rag"),
    "full_ft": ("generation", "classification", "full_ft", "rag"),
    "full_ft+rag": ("generation", "classification", "full_ft", "rag"),
    "cpt": ("generation", "classification", "cpt"),
    "scratch": ("generation", "scratch"),
    "supervised": ("supervised",),
    "embed": ("embed",),
}

# The strategies that train a model in `prepare` (a multi-process launch trains
# them together; on a Ray cluster with GPUs each of their units asks for one).
TRAINING = ("sft", "sft+rag", "full_ft", "full_ft+rag", "cpt", "scratch")

# The strategies a learning curve (`--train-sizes`) re-trains on subsets of train.jsonl.
LEARNING_CURVE = ("sft", "full_ft")


def reads_setting(name: str, key: str) -> bool:
    """Whether setting `key` (e.g. `sft.lora.r`) can change what `name` answers."""
    section = key.split(".")[0]
    return section == "model" or name not in READS or section in READS[name]


def has_learning_curve(name: str) -> bool:
    return name in LEARNING_CURVE


def available_strategies() -> list[str]:
    return list(REGISTRY)


def check_strategy_name(name: str) -> None:
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"available: {', '.join(REGISTRY)}"
        raise ConfigError(f"unknown strategy '{name}'", field="strategies", hint=hint)


def register(name: str, target: str, description: str = "") -> None:
    """Add a strategy (`"package.module:Class"`), e.g. from a plugin or a test."""
    REGISTRY[name] = target
    if description:
        DESCRIPTIONS[name] = description


def get_strategy_class(name: str) -> type:
    check_strategy_name(name)
    module_name, class_name = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_strategy(name: str):
    """A fresh instance of the named strategy."""
    return get_strategy_class(name)()


def strategy_needs(name: str):
    """What the named strategy needs from a task (`Needs()` when it does not say)."""
    from strategies.protocol import Needs

    return getattr(get_strategy_class(name), "needs", Needs())


def default_strategies(task_type: str) -> list[str]:
    """The strategies a run compares on this type of task when none are named."""
    from advisor.config import DEFAULT_STRATEGIES

    return list(DEFAULT_STRATEGIES.get(task_type, DEFAULT_STRATEGIES["generation"]))
