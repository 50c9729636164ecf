"""The one batched, greedy, deterministic generator every strategy answers through.

Conversations are rendered with the tokenizer's chat template, encoded without
extra special tokens (SmolLM2's template already starts with its BOS token),
sorted by length so a batch wastes little padding, left-padded (decoder-only
models continue from the right edge), and decoded greedily until the end token.
Greedy decoding makes answers a function of the prompt alone: the same
preparation gives the same answers, batched or one by one.

Any model with a Hugging Face style `generate(input_ids=, attention_mask=,
max_new_tokens=, do_sample=False, pad_token_id=, eos_token_id=)` works; the
from-scratch transformer implements the same method.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Message = dict[str, str]


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    latency_s: float  # wall time of the batch this answer was generated in


def render_prompt(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The chat template applied, ending where the assistant's answer begins."""
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)


def end_token_ids(tokenizer: Any) -> list[int]:
    """Tokens that end an answer: the tokenizer's EOS and the chat end-of-turn token."""
    ids = {tokenizer.eos_token_id}
    im_end = (
        tokenizer.convert_tokens_to_ids("<|im_end|>")
        if "<|im_end|>" in tokenizer.get_vocab()
        else None
    )
    if im_end is not None:
        ids.add(im_end)
    return sorted(i for i in ids if i is not None)


def generate(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Message]],
    *,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    device: str = "cpu",
    on_batch: Callable[[int], None] | None = None,
) -> list[Generation]:
    """Answer every conversation; results come back in input order.

    `on_batch(n)` is called after each batch with the number of answers done.
    """
    import torch

    prompts = [render_prompt(tokenizer, conversation) for conversation in conversations]
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    stop_ids = end_token_ids(tokenizer)
    results: list[Generation | None] = [None] * len(encoded)

    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = max(len(encoded[i]) for i in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, index in enumerate(batch):
            ids = encoded[index]
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[row, width - len(ids) :] = 1
        began = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad_id,
                eos_token_id=stop_ids,
            )
        elapsed = time.perf_counter() - began
        new_tokens = output[:, width:].tolist()
        for row, index in enumerate(batch):
            tokens, produced = _until_stop(new_tokens[row], stop_ids)
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            results[index] = Generation(text, len(encoded[index]), produced, elapsed)
        if on_batch is not None:
            on_batch(len(batch))
    return [r for r in results if r is not None]


def _until_stop(tokens: list[int], stop_ids: list[int]) -> tuple[list[int], int]:
    """The answer's tokens, and how many were generated (the stop token included)."""
    for position, token in enumerate(tokens):
        if token in stop_ids:
            return tokens[:position], position + 1
    return tokens, len(tokens)
