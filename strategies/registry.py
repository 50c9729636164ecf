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
    "scratch": "strategies.scratch:ScratchStrategy",
}

DESCRIPTIONS: dict[str, str] = {
    "prompt": "zero-shot with the task's system prompt",
    "fewshot": "k labeled examples in the prompt",
    "rag": "top-k corpus passages (FAISS over MiniLM embeddings) in the prompt, with citations",
    "sft": "LoRA fine-tuning on train.jsonl, loss on the answer tokens only",
    "cpt": "continued pre-training: LoRA on the raw corpus text, answering without retrieval",
    "sft+rag": "the SFT adapter answering with retrieved passages",
    "scratch": "a small transformer trained from random init on the same data",
}


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
